/** @odoo-module **/
/* A call recording's player: the browser's own <audio> on the attachment's /web/content URL (Odoo checks
   there that the user may read the call). In a list, playing does not open the row. */

import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

export class AudioPlayer extends Component {
    static template = "asterisk_plus.AudioPlayer";
    static props = { ...standardFieldProps };

    get url() {
        return this.props.record.data[this.props.name] || "";
    }

    onClick(ev) {
        ev.stopPropagation();
    }
}

registry.category("fields").add("asterisk_audio", {
    component: AudioPlayer,
    supportedTypes: ["char"],
});
