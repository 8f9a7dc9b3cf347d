/**
 * The browser demo's flow, kept apart from the page so that the browser tests can run the
 * very same flow in Deno for the expected result.
 *
 * Generated sensor readings (four sensors, one reading every 250 ms of event time, values
 * from a fixed formula of the reading's number, so every run produces the same data) →
 * per sensor, the average of each 5-second event-time window (keyed state) → a chart sink
 * whose snapshot is the chart's points, so a resumed run redraws the chart at once.
 *
 * The window is kept with `statefulFlatMap` and closes when a reading of a later window
 * arrives: event-driven only. (`EventClock` advances its watermark with system time between
 * items, as Bytewax's does; after a reload, the seconds the page was gone would make the
 * first readings late.)
 *
 * @module
 */
import {
  Dataflow,
  EOF,
  type FixedPartitionedSink,
  type FixedPartitionedSource,
  keyOn,
  type PartitionContext,
  statefulFlatMap,
  type StatefulSinkPartition,
  type StatefulSourcePartition,
} from "@weir/weir";

/** One reading of a sensor. */
export interface Reading {
  readonly sensor: string;
  /** Event time, ms since 1970. */
  readonly t: number;
  /** Degrees Celsius. */
  readonly value: number;
}

/** One point of the chart: a sensor's average over one window. */
export interface Point {
  readonly sensor: string;
  /** The window's number: its start is `window × WINDOW_MS` (event time). */
  readonly window: number;
  readonly avg: number;
}

/** The sensors, in reading order. */
export const SENSORS: readonly string[] = ["kitchen", "garage", "attic", "cellar"];
/** Event time of reading 0. */
export const T0: number = Date.UTC(2026, 0, 1);
/** Event time between two readings. */
export const STEP_MS = 250;
/** Length of a window (event time). */
export const WINDOW_MS = 5000;
/** Points the chart keeps per sensor (the oldest go first). */
export const POINTS_PER_SENSOR = 100;

const BASE = [21, 12, 27, 9];
const SWING = [2, 5, 6, 1];

/** Reading number `i`: the same value in every run and every runtime. */
export function reading(i: number): Reading {
  const s = i % SENSORS.length;
  const t = T0 + i * STEP_MS;
  const day = Math.sin((i / 240) * Math.PI); // a slow swing
  // Integer hash of i: deterministic noise in [-0.5, 0.5).
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  const noise = ((h ^ (h >>> 16)) >>> 0) / 2 ** 32 - 0.5;
  return {
    sensor: SENSORS[s]!,
    t,
    value: Math.round((BASE[s]! + SWING[s]! * day + noise) * 100) / 100,
  };
}

/** Options of {@linkcode SensorSource}. */
export interface SensorSourceOptions {
  /** Readings per second of wall-clock time (`Infinity`: as fast as the flow takes them). */
  readonly rate: number;
  /** Stop (EOF) after this many readings; without it the source runs forever. */
  readonly limit?: number;
  /** Called with the position (readings produced) after each batch. */
  readonly onPosition?: (position: number) => void;
}

/**
 * Generated readings at `rate` per second, one partition whose snapshot is the number of
 * readings produced: a resumed run continues with the next one.
 */
export class SensorSource implements FixedPartitionedSource<Reading, number> {
  constructor(private readonly options: SensorSourceOptions) {}

  listParts(): string[] {
    return ["sensors"];
  }

  buildPart(
    _stepId: string,
    _part: string,
    resume: number | undefined,
    ctx: PartitionContext,
  ): StatefulSourcePartition<Reading, number> {
    const { rate, limit, onPosition } = this.options;
    const clock = ctx.clock;
    const first = resume ?? 0;
    const start = clock.now();
    let i = first;
    onPosition?.(i);
    return {
      nextBatch() {
        if (limit !== undefined && i >= limit) return EOF;
        const due = rate === Infinity
          ? Infinity
          : first + Math.floor(((clock.now() - start) * rate) / 1000);
        const end = Math.min(due, i + 256, limit ?? Infinity);
        const batch: Reading[] = [];
        for (; i < end; i++) batch.push(reading(i));
        if (batch.length > 0) onPosition?.(i);
        return batch;
      },
      nextAwake() {
        return rate === Infinity ? undefined : start + ((i - first + 1) * 1000) / rate;
      },
      snapshot: () => i,
    };
  }
}

/**
 * The chart's data as a sink: one partition whose snapshot is the points, so a resumed run
 * starts from the chart as it was at the last commit (and the points written after it are
 * written again by the replay).
 */
export class ChartSink implements FixedPartitionedSink<Point, Point[]> {
  /** `onChange` gets the points after every change (and once when the sink starts). */
  constructor(private readonly onChange: (points: readonly Point[]) => void) {}

  listParts(): string[] {
    return ["chart"];
  }

  partFn(): number {
    return 0;
  }

  buildPart(
    _stepId: string,
    _part: string,
    resume: Point[] | undefined,
  ): StatefulSinkPartition<Point, Point[]> {
    const points: Point[] = resume === undefined ? [] : [...resume];
    const onChange = this.onChange;
    onChange(points);
    return {
      writeBatch(values) {
        points.push(...values);
        // Keep the newest POINTS_PER_SENSOR windows of each sensor.
        const max = POINTS_PER_SENSOR * SENSORS.length;
        if (points.length > max) points.splice(0, points.length - max);
        onChange(points);
      },
      snapshot: () => points.slice(),
    };
  }
}

/** A sensor's open window. */
interface WindowState {
  readonly window: number;
  readonly sum: number;
  readonly n: number;
}

/** The demo's flow: readings → per-sensor 5-second averages → the chart. */
export function sensorFlow(source: SensorSource, sink: ChartSink): Dataflow {
  const flow = new Dataflow("sensor_averages");
  flow.input("readings", source)
    .pipe(
      keyOn("by_sensor", (r: Reading) => r.sensor),
      statefulFlatMap(
        "window_avg",
        (state: WindowState | undefined, r: Reading): [WindowState, Point[]] => {
          const window = Math.floor((r.t - T0) / WINDOW_MS);
          if (state === undefined) return [{ window, sum: r.value, n: 1 }, []];
          if (state.window === window) {
            return [{ window, sum: state.sum + r.value, n: state.n + 1 }, []];
          }
          // A reading of a later window closes the open one.
          const avg = Math.round((state.sum / state.n) * 1000) / 1000;
          return [{ window, sum: r.value, n: 1 }, [{
            sensor: r.sensor,
            window: state.window,
            avg,
          }]];
        },
      ),
    )
    .output("chart", sink);
  return flow;
}
