import { createServer } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { CryptomlError } from "../core/errors.js";
import { cryptomlVersion, startExporter } from "./exporter.js";

describe("startExporter", () => {
  it("serves the process's metrics with system metrics and logs its URL", async () => {
    const lines: string[] = [];
    const exporter = await startExporter({
      config: { host: "127.0.0.1", port: 0 },
      command: "train",
      paths: [process.cwd()],
      checks: [{ name: "always", check: async () => ({ ok: true, detail: "fine" }) }],
      log: (l) => lines.push(l),
    });
    try {
      expect(lines).toEqual([`metrics: ${exporter.url}/metrics`]);
      exporter.metrics.counter("cryptoml_training_steps_total").inc({ symbol: "BTCUSDT", model: "gru" });
      const body = await (await fetch(`${exporter.url}/metrics`)).text();
      expect(body).toContain(`cryptoml_build_info{version="${cryptomlVersion()}",command="train"} 1`);
      expect(body).toContain('cryptoml_training_steps_total{symbol="BTCUSDT",model="gru"} 1');
      expect(body).toMatch(/^cryptoml_system_memory_total_bytes [1-9]/m);
      // Disk usage is read in the background; a later scrape carries it.
      await vi.waitFor(async () => {
        const later = await (await fetch(`${exporter.url}/metrics`)).text();
        expect(later).toMatch(/^cryptoml_system_disk_free_bytes\{path="[^"]+"\} \d/m);
      });
      expect((await fetch(`${exporter.url}/ready`)).status).toBe(200);
    } finally {
      await exporter.close();
    }
    await expect(fetch(`${exporter.url}/health`)).rejects.toThrow();
  });

  it("reads the version from package.json", () => {
    expect(cryptomlVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects a taken port with a CryptomlError", async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    const { port } = blocker.address() as { port: number };
    try {
      const error = await startExporter({ config: { host: "127.0.0.1", port }, command: "train" }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CryptomlError);
      expect((error as CryptomlError).message).toContain("already in use");
    } finally {
      await new Promise<void>((done) => blocker.close(() => done()));
    }
  });
});
