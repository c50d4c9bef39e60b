/** @odoo-module **/

import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";

export class CallPopups extends Component {
    static template = "asterisk_plus.CallPopups";
    static props = ["state", "close", "openRecord", "createContact"];

    headline(call) {
        if (call.state === "ended") {
            if (call.status === "missed") {
                return _t("Missed call");
            }
            return call.answered_by_me ? _t("Call ended") : _t("Taken by %s", call.answered_by || "?");
        }
        if (call.state === "answered") {
            return call.answered_by_me ? _t("You answered") : _t("Taken by %s", call.answered_by || "?");
        }
        return call.queue ? _t("Incoming call (queue %s)", call.queue) : _t("Incoming call");
    }

    headlineClass(call) {
        if (call.state === "ended" && call.status === "missed") {
            return "text-danger";
        }
        return call.state === "ringing" ? "text-primary" : "text-muted";
    }
}
