/**
 * Kafka connectors: {@linkcode KafkaSource} (one weir partition per topic-partition, offsets in
 * weir's snapshots) and {@linkcode KafkaSink} (at-least-once, or exactly-once with one Kafka
 * transaction per epoch), on kafkajs by default, behind {@linkcode KafkaClient}.
 *
 * Needs network access to the brokers (`--allow-net=127.0.0.1:9092`).
 *
 * @module
 */
export {
  type ConsumeHandler,
  DEFAULT_RETRY,
  type KafkaClient,
  kafkajsClient,
  type KafkajsClientOptions,
  type KafkaLogLevel,
  type KafkaMessage,
  type KafkaProducer,
  type KafkaRecord,
  type KafkaTransaction,
  type KafkaTransactionalProducer,
  type PartitionOffset,
  type Subscription,
} from "./client.ts";
export { KafkaSource, type KafkaSourceOptions } from "./source.ts";
export { KafkaSink, type KafkaSinkItem, type KafkaSinkOptions } from "./sink.ts";
