import * as z from "zod";
import { int, matching, text } from "./rules.js";

/** `monitoring:` in monitoring.yaml — the Prometheus endpoint. */
export const monitoringSchema = z
  .strictObject({
    /** Interface /metrics listens on; 127.0.0.1 keeps it off the network. */
    host: text("a host name or IP address").default("127.0.0.1"),
    port: int({ min: 1, max: 65535 }).default(9464),
    /** How often Prometheus should scrape (written into generated scrape configs). */
    scrape_interval: matching(
      /^\d+(ms|s|m|h)$/,
      'must be a duration like "500ms", "15s", "1m" or "1h"',
    ).default("15s"),
  })
  .prefault({});

export type MonitoringConfig = z.output<typeof monitoringSchema>;
