/**
 * The metrics of one cryptoml process: a prom-client Registry holding exactly the catalog's metrics
 * (src/monitoring/catalog.ts) plus prom-client's default process/nodejs metrics, with typed accessors so
 * no caller spells a metric name by hand, and exposition in Prometheus text 0.0.4 or OpenMetrics 1.0.0.
 */
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  type OpenMetricsContentType,
  Registry,
} from "prom-client";
import { METRICS, type MetricName } from "./catalog.js";

type CatalogEntry = (typeof METRICS)[number];
type NamesOfType<T extends CatalogEntry["type"]> = Extract<CatalogEntry, { type: T }>["name"];

export type CounterName = NamesOfType<"counter">;
export type GaugeName = NamesOfType<"gauge">;
export type HistogramName = NamesOfType<"histogram">;
/** The label names of metric `N`, as the catalog declares them. */
export type LabelsOf<N extends MetricName> = Extract<CatalogEntry, { name: N }>["labels"][number];

/** Refreshes values right before a scrape reads them (a system sampler, a cache of nvidia-smi output). */
export type CollectHook = () => Promise<void> | void;

/** One rendered scrape. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

export interface CryptomlMetrics {
  /** The prom-client registry (catalog metrics and default process metrics); never the global one. */
  readonly registry: Registry;
  counter<N extends CounterName>(name: N): Counter<LabelsOf<N>>;
  gauge<N extends GaugeName>(name: N): Gauge<LabelsOf<N>>;
  histogram<N extends HistogramName>(name: N): Histogram<LabelsOf<N>>;
  /**
   * Runs `hook` once per scrape before any of `names` is read. Scrapes that overlap share one run, so a
   * sampler that fills several metrics computes its deltas once. Returns a function that removes it.
   */
  onCollect(names: readonly MetricName[], hook: CollectHook): () => void;
  /** Renders every metric: OpenMetrics when `accept` asks for `application/openmetrics-text`, else text 0.0.4. */
  exposition(accept?: string): Promise<Exposition>;
}

export interface MetricsRegistryOptions {
  /** The command this process runs (`train`, `tune`, `monitor`), the `command` label of cryptoml_build_info. */
  readonly command: string;
  /** The cryptoml version (package.json), the `version` label of cryptoml_build_info. */
  readonly version: string;
  /** Also register prom-client's process_* and nodejs_* metrics. Default true. */
  readonly defaultMetrics?: boolean;
}

const OPENMETRICS_MIME = "application/openmetrics-text";

/** True when an Accept header prefers OpenMetrics (Prometheus sends it first, with the highest q). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept?.toLowerCase().includes(OPENMETRICS_MIME) === true;
}

/**
 * Creates the registry of one process with every catalog metric and sets `cryptoml_build_info`.
 * Metrics without labels appear at once (0); labelled ones once a series is set.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): CryptomlMetrics {
  const registry = new Registry();
  const hooks = new Map<string, (() => Promise<void> | void)[]>();
  const runHooks = (name: string): Promise<void> | undefined => {
    const list = hooks.get(name);
    if (list === undefined || list.length === 0) return undefined;
    return Promise.all(list.map((run) => run())).then(() => undefined);
  };
  const metrics = new Map<string, Metric>();
  for (const spec of METRICS) {
    const config = {
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [registry],
      collect: () => runHooks(spec.name),
    };
    const metric =
      spec.type === "counter"
        ? new Counter(config)
        : spec.type === "gauge"
          ? new Gauge(config)
          : new Histogram({ ...config, buckets: [...spec.buckets] });
    metrics.set(spec.name, metric);
  }
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  (metrics.get("cryptoml_build_info") as Gauge).set(
    { version: options.version, command: options.command },
    1,
  );

  return {
    registry,
    counter: (name) => metrics.get(name) as Counter<never>,
    gauge: (name) => metrics.get(name) as Gauge<never>,
    histogram: (name) => metrics.get(name) as Histogram<never>,
    onCollect(names, hook) {
      const shared = sharedRun(hook);
      for (const name of names) hooks.set(name, [...(hooks.get(name) ?? []), shared]);
      return () => {
        for (const name of names)
          hooks.set(
            name,
            (hooks.get(name) ?? []).filter((h) => h !== shared),
          );
      };
    },
    async exposition(accept) {
      if (!wantsOpenMetrics(accept)) {
        return { contentType: registry.contentType, body: await registry.metrics() };
      }
      const view = openMetricsView(registry);
      return { contentType: view.contentType, body: await view.metrics() };
    },
  };
}

/** `hook` wrapped so that calls while one run is in flight join it instead of starting another. */
function sharedRun(hook: CollectHook): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  return () => {
    inFlight ??= Promise.resolve()
      .then(hook)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * An OpenMetrics registry over the same metrics. prom-client renders OpenMetrics by renaming counters in
 * place (`x_total` → `x`), which would break every later text-0.0.4 scrape of the shared metric objects;
 * so this view registers thin proxies that carry the OpenMetrics name and delegate the values.
 */
function openMetricsView(source: Registry): Registry<OpenMetricsContentType> {
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of source.getMetricsAsArray()) {
    const inner = metric as unknown as {
      name: string;
      help: string;
      type: string;
      get(): Promise<{ name: string }>;
      getForPromString?(): Promise<{ name: string }>;
    };
    const name = inner.type === "counter" ? inner.name.replace(/_total$/, "") : inner.name;
    const read = async () => ({ ...(await (inner.getForPromString ?? inner.get).call(inner)), name });
    const proxy = { name, help: inner.help, type: inner.type, get: read, getForPromString: read };
    view.registerMetric(proxy as unknown as Metric);
  }
  return view;
}
