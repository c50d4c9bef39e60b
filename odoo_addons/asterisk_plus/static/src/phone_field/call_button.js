/** @odoo-module **/
/* Click-to-call beside every phone field (the `phone` widget of forms and lists): the user's own phone
   rings first, then Asterisk dials the number; the call is linked to the record it came from. */

import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { session } from "@web/session";
import { PhoneField } from "@web/views/fields/phone/phone_field";

export class AsteriskCallButton extends Component {
    static template = "asterisk_plus.CallButton";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.title = _t("Call with Asterisk: your phone rings first");
    }

    get number() {
        return this.props.record.data[this.props.name] || "";
    }

    async onClick() {
        const record = this.props.record;
        if (!(await record.save())) {
            return; // the form has an error to fix first; it says so
        }
        const result = await this.orm.call("asterisk_plus.call", "originate", [this.number], {
            res_model: record.resModel,
            res_id: record.resId || false,
        });
        if (result) {
            await this.action.doAction(result);
        }
    }
}

patch(PhoneField, {
    components: { ...PhoneField.components, AsteriskCallButton },
});

patch(PhoneField.prototype, {
    get asteriskCanCall() {
        return Boolean(session.asterisk_plus && session.asterisk_plus.can_call);
    },
});
