"""ami_gateway settings (environment variables)."""

from __future__ import annotations

from services.bus import BusSettings

# Actions that never leave the gateway: they would change or end its own AMI session.
SESSION_ACTIONS = frozenset({"login", "logoff", "challenge", "events", "filter", "waitevent", "userevent"})

DEFAULT_ALLOWED = (
    "Ping,Command,Reload,CoreSettings,CoreStatus,CoreShowChannels,Status,Originate,Hangup,Redirect,Atxfer,"
    "BlindTransfer,Getvar,Setvar,GetConfig,GetConfigJSON,ListCategories,ListCommands,ModuleReload,ModuleCheck,"
    "ShowDialPlan,ExtensionState,ExtensionStateList,DeviceStateList,PJSIPShowEndpoints,PJSIPShowEndpoint,"
    "PJSIPShowContacts,PJSIPShowRegistrationsOutbound,SIPpeers,SIPshowpeer,QueueStatus,QueueSummary,QueueAdd,"
    "QueueRemove,QueuePause,MixMonitor,StopMixMonitor,MuteAudio,DBGet,DBPut,DBDel,PlayDTMF,Bridge,Park,"
    "ParkedCalls,ConfbridgeList,ConfbridgeKick,ConfbridgeMute,ConfbridgeUnmute,MeetmeList,VoicemailUsersList"
)


class GatewaySettings(BusSettings):
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "admin"
    ami_secret: str = "admin"
    ami_ping_interval_s: float = 10.0
    ami_ping_timeout_s: float = 5.0
    ami_reconnect_max_s: float = 30.0
    ami_max_frame_bytes: int = 1_048_576
    gateway_actions_allow: str = DEFAULT_ALLOWED
    gateway_action_timeout_s: float = 10.0
    gateway_max_action_bytes: int = 65_536
    gateway_flush_batch: int = 1000
    gateway_buffer_max: int = 500_000

    def allowed_actions(self) -> frozenset[str]:
        names = {a.strip().lower() for a in self.gateway_actions_allow.split(",") if a.strip()}
        return frozenset(names - SESSION_ACTIONS)
