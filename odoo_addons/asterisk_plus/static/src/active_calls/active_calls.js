/** @odoo-module **/
/* The live view of calls in progress: the journal tells the Call Managers' group and each call's users which
   calls moved on (models/call_supervision.py); the list reloads them through the ORM, so record rules still decide
   what each one sees. Odoo 17's bus service cannot unsubscribe, so one service listens for every list. */

import { EventBus } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useBus, useService } from "@web/core/utils/hooks";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

const SETTLE_MS = 300; // news of one batch come together: reload once

export const activeCallsService = {
    dependencies: ["bus_service"],
    start(env, { bus_service }) {
        const bus = new EventBus();
        let timer = null;
        bus_service.subscribe("asterisk_plus.active_calls", () => {
            clearTimeout(timer);
            timer = setTimeout(() => bus.trigger("changed"), SETTLE_MS);
        });
        bus_service.start();
        return { bus };
    },
};

export class ActiveCallsController extends ListController {
    setup() {
        super.setup();
        const live = useService("asterisk_plus.active_calls");
        useBus(live.bus, "changed", () => this.model.load());
    }
}

registry.category("services").add("asterisk_plus.active_calls", activeCallsService);
registry.category("views").add("asterisk_active_calls", { ...listView, Controller: ActiveCallsController });
