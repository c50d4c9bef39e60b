/** @odoo-module **/
/* The incoming call pop-up: Odoo's bus tells each rung user about a call (models/call_notify.py) when it
   starts ringing, when someone answers and when it ends; each call is one card, updated in place. */

import { reactive } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { CallPopups } from "./call_popups";

const CLOSE_AFTER_MS = 8000; // a card that is not sticky closes this long after the call was answered or ended

export const callPopupService = {
    dependencies: ["bus_service", "action"],
    start(env, { bus_service, action }) {
        const state = reactive({ calls: [] });
        const opened = new Set(); // calls whose record was opened by itself already
        const timers = new Map();

        function close(callId) {
            clearTimeout(timers.get(callId));
            timers.delete(callId);
            const index = state.calls.findIndex((c) => c.call_id === callId);
            if (index >= 0) {
                state.calls.splice(index, 1);
            }
        }

        function openRecord(call) {
            if (!call.res_model || !call.res_id) {
                return;
            }
            action.doAction({
                type: "ir.actions.act_window",
                res_model: call.res_model,
                res_id: call.res_id,
                views: [[false, "form"]],
                target: "current",
            });
        }

        function createContact(call) {
            action.doAction({
                type: "ir.actions.act_window",
                name: _t("Unknown number"),
                res_model: "asterisk_plus.number_wizard",
                views: [[false, "form"]],
                target: "new",
                context: { default_number: call.number, default_call_id: call.call_id },
            });
        }

        function onCall(payload) {
            const known = state.calls.find((c) => c.call_id === payload.call_id);
            if (!known && payload.state === "ended" && payload.status !== "missed") {
                return; // over before this tab heard of it (a reload replays the bus's last seconds)
            }
            if (known) {
                Object.assign(known, payload);
            } else {
                state.calls.push({ ...payload });
            }
            const mine = payload.answered_by_me;
            const when = payload.open_record;
            const itsTime = (when === "ring" && payload.state === "ringing") || (when === "answer" && mine);
            if (itsTime && payload.res_model && !opened.has(payload.call_id)) {
                opened.add(payload.call_id);
                openRecord(payload);
            }
            clearTimeout(timers.get(payload.call_id));
            if (payload.state !== "ringing" && !payload.sticky) {
                timers.set(
                    payload.call_id,
                    setTimeout(() => close(payload.call_id), CLOSE_AFTER_MS)
                );
            }
        }

        bus_service.subscribe("asterisk_plus.call", onCall);
        bus_service.start();
        registry.category("main_components").add("asterisk_plus.CallPopups", {
            Component: CallPopups,
            props: { state, close, openRecord, createContact },
        });
        return { state, close, onCall };
    },
};

registry.category("services").add("asterisk_plus_call_popup", callPopupService);
