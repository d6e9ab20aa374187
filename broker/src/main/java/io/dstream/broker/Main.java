package io.dstream.broker;

import io.dstream.broker.cluster.ClusterNode;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.CompactionPolicy;
import io.dstream.broker.auth.AnonymousAccess;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.config.FileUploadLimits;
import io.dstream.broker.config.RetentionSettings;
import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.config.S3Settings;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.TlsSettings;
import io.dstream.broker.retention.Discard;
import io.dstream.broker.retention.Limits;
import io.dstream.broker.store.GroupCommitPolicy;
import io.dstream.broker.store.SyncMode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar broker.jar}: every setting is a flag whose default comes from its
 * {@code DSTREAM_*} environment variable (docs/configuration.md lists them).
 */
@Command(name = "broker", mixinStandardHelpOptions = true, version = "durable-stream broker " + Main.VERSION,
    description = "Runs the durable-stream broker.", sortOptions = false)
public final class Main implements Callable<Integer> {

  /** The broker's version, also in {@code GET /health/ready}. */
  public static final String VERSION = "0.1.0";
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  private static final int SHUTDOWN_TIMEOUT_SECONDS = 20;

  @Option(names = "--host", defaultValue = "${env:DSTREAM_HOST:-127.0.0.1}", description = "Bind address (DSTREAM_HOST).")
  String host;

  @Option(names = "--port", defaultValue = "${env:DSTREAM_PORT:-8787}", description = "HTTP/WebSocket port, 0 = any free (DSTREAM_PORT).")
  int port;

  @Option(names = "--data-dir", defaultValue = "${env:DSTREAM_DATA_DIR:-./data}", description = "H2 file and generated key (DSTREAM_DATA_DIR).")
  Path dataDir;

  @Option(names = "--api-key", defaultValue = "${env:DSTREAM_API_KEY}", description = "API key; unset = generated once into the data dir (DSTREAM_API_KEY).")
  String apiKey;

  @Option(names = "--sync", defaultValue = "${env:DSTREAM_SYNC:-always}", description = "always = ack after fsync, os = ack after write to the OS (DSTREAM_SYNC).")
  String sync;

  @Option(names = "--sync-interval-ms", defaultValue = "${env:DSTREAM_SYNC_INTERVAL_MS:-200}", description = "With --sync os: force the file at least this often while writing (DSTREAM_SYNC_INTERVAL_MS).")
  long syncIntervalMs;

  @Option(names = "--trusted-proxies", defaultValue = "${env:DSTREAM_TRUSTED_PROXIES:-}", description = "Comma-separated IPs/CIDRs whose X-Forwarded-For is believed (DSTREAM_TRUSTED_PROXIES).")
  String trustedProxies;

  @Option(names = "--max-frame-bytes", defaultValue = "${env:DSTREAM_MAX_FRAME_BYTES:-1048576}", description = "Largest WebSocket message (DSTREAM_MAX_FRAME_BYTES).")
  int maxFrameBytes;

  @Option(names = "--max-pending-requests", defaultValue = "${env:DSTREAM_MAX_PENDING_REQUESTS:-1024}", description = "Unanswered requests per socket before reading pauses (DSTREAM_MAX_PENDING_REQUESTS).")
  int maxPendingRequests;

  @Option(names = "--max-in-flight", defaultValue = "${env:DSTREAM_MAX_IN_FLIGHT:-256}", description = "Unacked pushes per subscriber (DSTREAM_MAX_IN_FLIGHT).")
  int maxInFlight;

  @Option(names = "--ack-timeout-ms", defaultValue = "${env:DSTREAM_ACK_TIMEOUT_MS:-30000}", description = "Redeliver an unacked push after this (DSTREAM_ACK_TIMEOUT_MS).")
  long ackTimeoutMs;

  @Option(names = "--max-deliver", defaultValue = "${env:DSTREAM_MAX_DELIVER:-5}", description = "Deliveries before a message is skipped for a subscriber (DSTREAM_MAX_DELIVER).")
  int maxDeliver;

  @Option(names = "--idle-timeout-ms", defaultValue = "${env:DSTREAM_IDLE_TIMEOUT_MS:-60000}", description = "Idle time before an actor hibernates (DSTREAM_IDLE_TIMEOUT_MS).")
  long idleTimeoutMs;

  @Option(names = "--actor-cache-messages", defaultValue = "${env:DSTREAM_ACTOR_CACHE_MESSAGES:-1024}", description = "Recent messages kept in memory per active subject (DSTREAM_ACTOR_CACHE_MESSAGES).")
  int actorCacheMessages;

  @Option(names = "--actor-cache-bytes", defaultValue = "${env:DSTREAM_ACTOR_CACHE_BYTES:-262144}", description = "Byte bound of that cache (DSTREAM_ACTOR_CACHE_BYTES).")
  int actorCacheBytes;

  @Option(names = "--shards", defaultValue = "${env:DSTREAM_SHARDS:-0}", description = "Subject directories (shards, one event-loop context each); 0 = 2 x cores (DSTREAM_SHARDS).")
  int shards;

  @Option(names = "--commit-max-messages", defaultValue = "${env:DSTREAM_COMMIT_MAX_MESSAGES:-10000}", description = "Group commit: writes per commit (DSTREAM_COMMIT_MAX_MESSAGES).")
  int commitMaxMessages;

  @Option(names = "--commit-max-bytes", defaultValue = "${env:DSTREAM_COMMIT_MAX_BYTES:-8388608}", description = "Group commit: bytes per commit (DSTREAM_COMMIT_MAX_BYTES).")
  int commitMaxBytes;

  @Option(names = "--commit-max-delay-us", defaultValue = "${env:DSTREAM_COMMIT_MAX_DELAY_US:-0}", description = "Group commit: above 0, commit once the first write of a group waited this long (0: once the queue is empty) (DSTREAM_COMMIT_MAX_DELAY_US).")
  long commitMaxDelayMicros;

  @Option(names = "--write-queue-batches", defaultValue = "${env:DSTREAM_WRITE_QUEUE_BATCHES:-65536}", description = "Writer queue bound, in per-subject batches (DSTREAM_WRITE_QUEUE_BATCHES).")
  int writeQueueBatches;

  @Option(names = "--store-cache-mb", defaultValue = "${env:DSTREAM_STORE_CACHE_MB:-64}", description = "H2 page cache in MiB (DSTREAM_STORE_CACHE_MB).")
  int storeCacheMb;

  @Option(names = "--ws-compression", defaultValue = "${env:DSTREAM_WS_COMPRESSION:-false}", description = "Offer WebSocket permessage-deflate (DSTREAM_WS_COMPRESSION).")
  boolean webSocketCompression;

  @Option(names = "--dedup-window-ms", defaultValue = "${env:DSTREAM_DEDUP_WINDOW_MS:-120000}", description = "How long a (clientId, cMsgId) is remembered to drop retried publishes (DSTREAM_DEDUP_WINDOW_MS).")
  long dedupWindowMs;

  @Option(names = "--dedup-max-entries", defaultValue = "${env:DSTREAM_DEDUP_MAX_ENTRIES:-10000}", description = "Most remembered (clientId, cMsgId) per subject (DSTREAM_DEDUP_MAX_ENTRIES).")
  int dedupMaxEntries;

  @Option(names = "--s3-endpoint", defaultValue = "${env:DSTREAM_S3_ENDPOINT}", description = "S3-compatible endpoint URL; unset = embedded server on loopback (DSTREAM_S3_ENDPOINT).")
  String s3Endpoint;

  @Option(names = "--s3-bucket", defaultValue = "${env:DSTREAM_S3_BUCKET:-durable-stream}", description = "Bucket for files and checkpoints, created if missing (DSTREAM_S3_BUCKET).")
  String s3Bucket;

  @Option(names = "--s3-access-key", defaultValue = "${env:DSTREAM_S3_ACCESS_KEY}", description = "S3 access key; unset = the embedded server's own (DSTREAM_S3_ACCESS_KEY).")
  String s3AccessKey;

  @Option(names = "--s3-secret-key", defaultValue = "${env:DSTREAM_S3_SECRET_KEY}", description = "S3 secret key; unset = the embedded server's own (DSTREAM_S3_SECRET_KEY).")
  String s3SecretKey;

  @Option(names = "--s3-region", defaultValue = "${env:DSTREAM_S3_REGION:-us-east-1}", description = "S3 signing region (DSTREAM_S3_REGION).")
  String s3Region;

  @Option(names = "--s3-transfer-threads", defaultValue = "${env:DSTREAM_S3_TRANSFER_THREADS:-16}", description = "Threads for file uploads and downloads (DSTREAM_S3_TRANSFER_THREADS).")
  int s3TransferThreads;

  @Option(names = "--s3-archive-threads", defaultValue = "${env:DSTREAM_S3_ARCHIVE_THREADS:-4}", description = "Threads for checkpoints, restores and segment reads (DSTREAM_S3_ARCHIVE_THREADS).")
  int s3ArchiveThreads;

  @Option(names = "--s3-part-size-bytes", defaultValue = "${env:DSTREAM_S3_PART_SIZE_BYTES:-16777216}", description = "Multipart part size for uploads of unknown length (DSTREAM_S3_PART_SIZE_BYTES).")
  long s3PartSizeBytes;

  @Option(names = "--files-max-list-limit", defaultValue = "${env:DSTREAM_FILES_MAX_LIST_LIMIT:-1000}", description = "Largest (and default) limit of GET /r2/ (DSTREAM_FILES_MAX_LIST_LIMIT).")
  int filesMaxListLimit;

  @Option(names = "--checkpoint-interval-ms", defaultValue = "${env:DSTREAM_CHECKPOINT_INTERVAL_MS:-5000}", description = "Most time between a change to a subject and its checkpoint (DSTREAM_CHECKPOINT_INTERVAL_MS).")
  long checkpointIntervalMs;

  @Option(names = "--checkpoint-on-stop-ms", defaultValue = "${env:DSTREAM_CHECKPOINT_ON_STOP_MS:-5000}", description = "Longest a clean stop waits for the last checkpoints of the subjects the bucket is behind on; 0: none (DSTREAM_CHECKPOINT_ON_STOP_MS).")
  long checkpointOnStopMs;

  @Option(names = "--hot-window-messages", defaultValue = "${env:DSTREAM_HOT_WINDOW_MESSAGES:-100000}", description = "Checkpointed messages kept locally per subject (DSTREAM_HOT_WINDOW_MESSAGES).")
  long hotWindowMessages;

  @Option(names = "--hot-window-bytes", defaultValue = "${env:DSTREAM_HOT_WINDOW_BYTES:-67108864}", description = "Payload bytes kept locally per subject (DSTREAM_HOT_WINDOW_BYTES).")
  long hotWindowBytes;

  @Option(names = "--hot-window-age-ms", defaultValue = "${env:DSTREAM_HOT_WINDOW_AGE_MS:-86400000}", description = "Age after which checkpointed messages leave the local store (DSTREAM_HOT_WINDOW_AGE_MS).")
  long hotWindowAgeMs;

  @Option(names = "--checkpoint-retry-min-ms", defaultValue = "${env:DSTREAM_CHECKPOINT_RETRY_MIN_MS:-500}", description = "First retry delay of a failed checkpoint (DSTREAM_CHECKPOINT_RETRY_MIN_MS).")
  long checkpointRetryMinMs;

  @Option(names = "--checkpoint-retry-max-ms", defaultValue = "${env:DSTREAM_CHECKPOINT_RETRY_MAX_MS:-30000}", description = "Longest retry delay of a failed checkpoint (DSTREAM_CHECKPOINT_RETRY_MAX_MS).")
  long checkpointRetryMaxMs;

  @Option(names = "--archive-compact-min-segments", defaultValue = "${env:DSTREAM_ARCHIVE_COMPACT_MIN_SEGMENTS:-8}", description = "Small segments of a subject that start a compaction (DSTREAM_ARCHIVE_COMPACT_MIN_SEGMENTS).")
  int archiveCompactMinSegments;

  @Option(names = "--archive-compact-max-segments", defaultValue = "${env:DSTREAM_ARCHIVE_COMPACT_MAX_SEGMENTS:-32}", description = "Segments one merge reads at most (DSTREAM_ARCHIVE_COMPACT_MAX_SEGMENTS).")
  int archiveCompactMaxSegments;

  @Option(names = "--archive-compact-segment-bytes", defaultValue = "${env:DSTREAM_ARCHIVE_COMPACT_SEGMENT_BYTES:-8388608}", description = "Payload bytes of a merged segment at most, up to 8 MiB (DSTREAM_ARCHIVE_COMPACT_SEGMENT_BYTES).")
  long archiveCompactSegmentBytes;

  @Option(names = "--archive-sweep-keys", defaultValue = "${env:DSTREAM_ARCHIVE_SWEEP_KEYS:-1000}", description = "Segment keys one orphan sweep step lists, up to 1000 (DSTREAM_ARCHIVE_SWEEP_KEYS).")
  int archiveSweepKeys;
  @Option(names = "--anonymous", defaultValue = "${env:DSTREAM_ANONYMOUS:-none}", description = "What clients without credentials may do on /stream and /v1/stream: none, read, all (DSTREAM_ANONYMOUS).")
  String anonymous;

  @Option(names = "--max-append-bytes", defaultValue = "${env:DSTREAM_MAX_APPEND_BYTES:-16777216}", description = "Largest Durable Streams append body (DSTREAM_MAX_APPEND_BYTES).")
  int maxAppendBytes;

  @Option(names = "--jwt-secret", defaultValue = "${env:DSTREAM_JWT_SECRET}", description = "HS256 secret enabling JWT bearer tokens (DSTREAM_JWT_SECRET).")
  String jwtSecret;

  @Option(names = "--jwt-public-key", defaultValue = "${env:DSTREAM_JWT_PUBLIC_KEY}", description = "RS256/ES256 public key enabling JWTs: PEM text or a PEM file path (DSTREAM_JWT_PUBLIC_KEY).")
  String jwtPublicKey;

  @Option(names = "--jwt-issuer", defaultValue = "${env:DSTREAM_JWT_ISSUER}", description = "Required JWT iss; unset = any (DSTREAM_JWT_ISSUER).")
  String jwtIssuer;

  @Option(names = "--jwt-audience", defaultValue = "${env:DSTREAM_JWT_AUDIENCE:-}", description = "Comma-separated accepted JWT aud; empty = any (DSTREAM_JWT_AUDIENCE).")
  String jwtAudience;

  @Option(names = "--tls-cert", defaultValue = "${env:DSTREAM_TLS_CERT}", description = "PEM certificate chain: serve HTTPS/WSS (DSTREAM_TLS_CERT).")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:DSTREAM_TLS_KEY}", description = "PEM private key for --tls-cert (DSTREAM_TLS_KEY).")
  Path tlsKey;

  @Option(names = "--max-connections", defaultValue = "${env:DSTREAM_MAX_CONNECTIONS:-100000}", description = "Open connections; more get 503 (DSTREAM_MAX_CONNECTIONS).")
  int maxConnections;

  @Option(names = "--max-active-subjects", defaultValue = "${env:DSTREAM_MAX_ACTIVE_SUBJECTS:-2000000}", description = "Subjects in memory at once (DSTREAM_MAX_ACTIVE_SUBJECTS).")
  int maxActiveSubjects;

  @Option(names = "--rate-per-socket", defaultValue = "${env:DSTREAM_RATE_PER_SOCKET:-100000}", description = "Sustained requests per second per WebSocket (DSTREAM_RATE_PER_SOCKET).")
  double ratePerSocket;

  @Option(names = "--rate-burst", defaultValue = "${env:DSTREAM_RATE_BURST:-20000}", description = "Request burst per WebSocket above the rate (DSTREAM_RATE_BURST).")
  int rateBurst;

  @Option(names = "--slow-consumer-grace-ms", defaultValue = "${env:DSTREAM_SLOW_CONSUMER_GRACE_MS:-30000}", description = "Close a socket whose outbound queue stays full this long (DSTREAM_SLOW_CONSUMER_GRACE_MS).")
  long slowConsumerGraceMs;

  @Option(names = "--records-max-per-post", defaultValue = "${env:DSTREAM_RECORDS_MAX_PER_POST:-1000}", description = "Records API: most records per POST (DSTREAM_RECORDS_MAX_PER_POST).")
  int maxRecordsPerPost;

  @Option(names = "--records-max-body-bytes", defaultValue = "${env:DSTREAM_RECORDS_MAX_BODY_BYTES:-1048576}", description = "Records API: largest POST body (DSTREAM_RECORDS_MAX_BODY_BYTES).")
  int maxRecordsBodyBytes;

  @Option(names = "--records-max-per-read", defaultValue = "${env:DSTREAM_RECORDS_MAX_PER_READ:-1000}", description = "Records API: most records per GET (DSTREAM_RECORDS_MAX_PER_READ).")
  int maxRecordsPerRead;

  @Option(names = "--long-poll-timeout-ms", defaultValue = "${env:DSTREAM_LONG_POLL_TIMEOUT_MS:-30000}", description = "Longest wait of a long-poll, and of an SSE wait before its keep-alive (DSTREAM_LONG_POLL_TIMEOUT_MS).")
  long longPollTimeoutMs;

  @Option(names = "--max-long-poll-waiters", defaultValue = "${env:DSTREAM_MAX_LONG_POLL_WAITERS:-10000}", description = "Long-polls waiting at once; more get 503 (DSTREAM_MAX_LONG_POLL_WAITERS).")
  int maxLongPollWaiters;
  @Option(names = "--files-max-share-seconds", defaultValue = "${env:DSTREAM_FILES_MAX_SHARE_SECONDS:-604800}", description = "Longest lifetime of a file share link (DSTREAM_FILES_MAX_SHARE_SECONDS).")
  long filesMaxShareSeconds;

  @Option(names = "--memory-budget-bytes", defaultValue = "${env:DSTREAM_MEMORY_BUDGET_BYTES:-0}", description = "Bytes all clients may make the broker hold; 0 = a quarter of the heap (DSTREAM_MEMORY_BUDGET_BYTES).")
  long memoryBudgetBytes;

  @Option(names = "--connection-budget-bytes", defaultValue = "${env:DSTREAM_CONNECTION_BUDGET_BYTES:-262144}", description = "Bytes one WebSocket may make the broker hold (DSTREAM_CONNECTION_BUDGET_BYTES).")
  long connectionBudgetBytes;

  @Option(names = "--files-max-uploads", defaultValue = "${env:DSTREAM_FILES_MAX_UPLOADS:-8}", description = "/r2 uploads in progress at once (DSTREAM_FILES_MAX_UPLOADS).")
  int filesMaxUploads;

  @Option(names = "--files-max-uploads-per-client", defaultValue = "${env:DSTREAM_FILES_MAX_UPLOADS_PER_CLIENT:-4}", description = "/r2 uploads in progress from one client address (DSTREAM_FILES_MAX_UPLOADS_PER_CLIENT).")
  int filesMaxUploadsPerClient;

  @Option(names = "--files-min-upload-bytes", defaultValue = "${env:DSTREAM_FILES_MIN_UPLOAD_BYTES:-16384}", description = "Bytes an upload must deliver per interval (DSTREAM_FILES_MIN_UPLOAD_BYTES).")
  long filesMinUploadBytes;

  @Option(names = "--files-min-upload-interval-ms", defaultValue = "${env:DSTREAM_FILES_MIN_UPLOAD_INTERVAL_MS:-10000}", description = "Interval of that minimum upload rate (DSTREAM_FILES_MIN_UPLOAD_INTERVAL_MS).")
  long filesMinUploadIntervalMs;

  @Option(names = "--idle-connection-timeout-ms", defaultValue = "${env:DSTREAM_IDLE_CONNECTION_TIMEOUT_MS:-120000}", description = "Close a connection with no traffic this long (DSTREAM_IDLE_CONNECTION_TIMEOUT_MS).")
  long idleConnectionTimeoutMs;

  @Option(names = "--request-header-timeout-ms", defaultValue = "${env:DSTREAM_REQUEST_HEADER_TIMEOUT_MS:-10000}", description = "A new connection's first request head must arrive within this (DSTREAM_REQUEST_HEADER_TIMEOUT_MS).")
  long requestHeaderTimeoutMs;

  @Option(names = "--ws-ping-interval-ms", defaultValue = "${env:DSTREAM_WS_PING_INTERVAL_MS:-30000}", description = "WebSocket ping interval (DSTREAM_WS_PING_INTERVAL_MS).")
  long pingIntervalMs;

  @Option(names = "--nats-port", defaultValue = "${env:DSTREAM_NATS_PORT:-4222}", description = "TCP port of the NATS client protocol, 0 = off (DSTREAM_NATS_PORT).")
  int natsPort;

  @Option(names = "--nats-max-payload", defaultValue = "${env:DSTREAM_NATS_MAX_PAYLOAD:-1048576}", description = "Largest NATS message, headers included (DSTREAM_NATS_MAX_PAYLOAD).")
  int natsMaxPayload;

  @Option(names = "--nats-max-pending-bytes", defaultValue = "${env:DSTREAM_NATS_MAX_PENDING_BYTES:-67108864}", description = "Unsent bytes a NATS connection may have before it is closed as a slow consumer (DSTREAM_NATS_MAX_PENDING_BYTES).")
  long natsMaxPendingBytes;

  @Option(names = "--nats-max-subscriptions", defaultValue = "${env:DSTREAM_NATS_MAX_SUBSCRIPTIONS:-10000}", description = "Subscriptions per NATS connection (DSTREAM_NATS_MAX_SUBSCRIPTIONS).")
  int natsMaxSubscriptions;

  @Option(names = "--nats-ephemeral", defaultValue = "${env:DSTREAM_NATS_EPHEMERAL:-_INBOX.>,$SRV.>,svc.>}", description = "Comma-separated subject patterns delivered but not stored (DSTREAM_NATS_EPHEMERAL).")
  String natsEphemeral;

  @Option(names = "--nats-max-wildcard-subjects", defaultValue = "${env:DSTREAM_NATS_MAX_WILDCARD_SUBJECTS:-10000}", description = "Subjects one consumer of a wildcard JetStream stream follows at most (DSTREAM_NATS_MAX_WILDCARD_SUBJECTS).")
  int natsMaxWildcardSubjects;
  @Option(names = "--retention-max-age-ms", defaultValue = "${env:DSTREAM_RETENTION_MAX_AGE_MS:-0}", description = "Broker-wide default: delete messages older than this, 0 = unlimited (DSTREAM_RETENTION_MAX_AGE_MS).")
  long retentionMaxAgeMs;

  @Option(names = "--retention-max-messages", defaultValue = "${env:DSTREAM_RETENTION_MAX_MESSAGES:-0}", description = "Broker-wide default: messages a subject keeps, 0 = unlimited (DSTREAM_RETENTION_MAX_MESSAGES).")
  long retentionMaxMessages;

  @Option(names = "--retention-max-bytes", defaultValue = "${env:DSTREAM_RETENTION_MAX_BYTES:-0}", description = "Broker-wide default: payload bytes a subject keeps, 0 = unlimited (DSTREAM_RETENTION_MAX_BYTES).")
  long retentionMaxBytes;

  @Option(names = "--retention-max-message-size", defaultValue = "${env:DSTREAM_RETENTION_MAX_MESSAGE_SIZE:-0}", description = "Broker-wide default: largest message a subject takes, 0 = unlimited (DSTREAM_RETENTION_MAX_MESSAGE_SIZE).")
  long retentionMaxMessageSize;

  @Option(names = "--retention-discard", defaultValue = "${env:DSTREAM_RETENTION_DISCARD:-old}", description = "Broker-wide default at the message or byte limit: old deletes the oldest, new refuses the publish (DSTREAM_RETENTION_DISCARD).")
  String retentionDiscard;

  @Option(names = "--retention-sweep-interval-ms", defaultValue = "${env:DSTREAM_RETENTION_SWEEP_INTERVAL_MS:-1000}", description = "Pause between two retention sweeper ticks (DSTREAM_RETENTION_SWEEP_INTERVAL_MS).")
  long retentionSweepIntervalMs;

  @Option(names = "--retention-sweep-subjects", defaultValue = "${env:DSTREAM_RETENTION_SWEEP_SUBJECTS:-1000}", description = "Subjects one retention sweeper tick examines at most (DSTREAM_RETENTION_SWEEP_SUBJECTS).")
  int retentionSweepSubjects;

  @Option(names = "--retention-sweep-deletions", defaultValue = "${env:DSTREAM_RETENTION_SWEEP_DELETIONS:-10000}", description = "Messages one retention sweeper tick deletes at most (DSTREAM_RETENTION_SWEEP_DELETIONS).")
  int retentionSweepDeletions;

  @Option(names = "--retention-max-rules", defaultValue = "${env:DSTREAM_RETENTION_MAX_RULES:-1000}", description = "Retention rules the broker keeps at most (DSTREAM_RETENTION_MAX_RULES).")
  int retentionMaxRules;

  @Option(names = "--retention-refresh-interval-ms", defaultValue = "${env:DSTREAM_RETENTION_REFRESH_INTERVAL_MS:-1000}", description = "Cluster mode: pause between two checks for retention rules changed through another node (DSTREAM_RETENTION_REFRESH_INTERVAL_MS).")
  long retentionRefreshIntervalMs;

  @Option(names = "--cluster-node-id", defaultValue = "${env:DSTREAM_CLUSTER_NODE_ID}", description = "This node's id; set = cluster mode, unset = single node (DSTREAM_CLUSTER_NODE_ID).")
  String clusterNodeId;

  @Option(names = "--cluster-peers", defaultValue = "${env:DSTREAM_CLUSTER_PEERS}", description = "Every node, this one included: id=host:hazelcastPort:raftPort,... (DSTREAM_CLUSTER_PEERS).")
  String clusterPeers;

  @Option(names = "--cluster-replicas", defaultValue = "${env:DSTREAM_CLUSTER_REPLICAS:-3}", description = "Nodes holding each partition, capped at the node count (DSTREAM_CLUSTER_REPLICAS).")
  int clusterReplicas;

  @Option(names = "--cluster-partitions", defaultValue = "${env:DSTREAM_CLUSTER_PARTITIONS:-16}", description = "Raft groups subjects are spread over; fixed for the cluster's life (DSTREAM_CLUSTER_PARTITIONS).")
  int clusterPartitions;

  @Option(names = "--cluster-placement-tokens", defaultValue = "${env:DSTREAM_CLUSTER_PLACEMENT_TOKENS:-0}", description = "Leading subject tokens a subject's partition is a hash of, 0 for the whole subject; fixed for the cluster's life (DSTREAM_CLUSTER_PLACEMENT_TOKENS).")
  int clusterPlacementTokens;

  @Option(names = "--cluster-election-timeout-min-ms", defaultValue = "${env:DSTREAM_CLUSTER_ELECTION_TIMEOUT_MIN_MS:-500}", description = "Raft election timeout, lower bound (DSTREAM_CLUSTER_ELECTION_TIMEOUT_MIN_MS).")
  long clusterElectionMinMs;

  @Option(names = "--cluster-election-timeout-max-ms", defaultValue = "${env:DSTREAM_CLUSTER_ELECTION_TIMEOUT_MAX_MS:-1000}", description = "Raft election timeout, upper bound (DSTREAM_CLUSTER_ELECTION_TIMEOUT_MAX_MS).")
  long clusterElectionMaxMs;

  @Option(names = "--cluster-step-down-wait-ms", defaultValue = "${env:DSTREAM_CLUSTER_STEP_DOWN_WAIT_MS:-2000}", description = "How long a leader that stepped down waits before it stands again (DSTREAM_CLUSTER_STEP_DOWN_WAIT_MS).")
  long clusterStepDownWaitMs;

  @Option(names = "--cluster-snapshot-entries", defaultValue = "${env:DSTREAM_CLUSTER_SNAPSHOT_ENTRIES:-10000}", description = "Raft entries of a partition between two snapshots (DSTREAM_CLUSTER_SNAPSHOT_ENTRIES).")
  long clusterSnapshotEntries;

  @Option(names = "--cluster-forward-timeout-ms", defaultValue = "${env:DSTREAM_CLUSTER_FORWARD_TIMEOUT_MS:-5000}", description = "Longest a request forwarded to a partition's leader may take, retries included (DSTREAM_CLUSTER_FORWARD_TIMEOUT_MS).")
  long clusterForwardTimeoutMs;

  @Option(names = "--cluster-max-entry-bytes", defaultValue = "${env:DSTREAM_CLUSTER_MAX_ENTRY_BYTES:-4194304}", description = "Largest Raft entry: one subject's write batch above it is refused (DSTREAM_CLUSTER_MAX_ENTRY_BYTES).")
  int clusterMaxEntryBytes;

  @Option(names = "--cluster-member-timeout-ms", defaultValue = "${env:DSTREAM_CLUSTER_MEMBER_TIMEOUT_MS:-4000}", description = "A node silent this long leaves the membership (whole seconds, at least 1) (DSTREAM_CLUSTER_MEMBER_TIMEOUT_MS).")
  long clusterMemberTimeoutMs;

  @Option(names = "--cluster-log-segment-bytes", defaultValue = "${env:DSTREAM_CLUSTER_LOG_SEGMENT_BYTES:-8388608}", description = "Size of a Raft log segment file, the unit a snapshot lets the log delete (DSTREAM_CLUSTER_LOG_SEGMENT_BYTES).")
  long clusterLogSegmentBytes;

  @Option(names = "--cluster-store-commit-ms", defaultValue = "${env:DSTREAM_CLUSTER_STORE_COMMIT_MS:-100}", description = "How long entries applied to a node's store may wait for its next commit (DSTREAM_CLUSTER_STORE_COMMIT_MS).")
  long clusterStoreCommitMs;

  @Option(names = "--cluster-copy-page-bytes", defaultValue = "${env:DSTREAM_CLUSTER_COPY_PAGE_BYTES:-1048576}", description = "Bytes of one page of a partition copy to a replica that lost its disk or fell behind (DSTREAM_CLUSTER_COPY_PAGE_BYTES).")
  int clusterCopyPageBytes;

  @Option(names = "--cluster-copy-page-timeout-ms", defaultValue = "${env:DSTREAM_CLUSTER_COPY_PAGE_TIMEOUT_MS:-30000}", description = "How long a replica waits for one page of a partition copy before it starts the copy again (DSTREAM_CLUSTER_COPY_PAGE_TIMEOUT_MS).")
  long clusterCopyPageTimeoutMs;

  BrokerConfig toConfig() {
    BrokerConfig.Builder builder = BrokerConfig.builder()
        .host(host).port(port).dataDir(dataDir).apiKey(apiKey).syncMode(SyncMode.parse(sync)).osSyncInterval(Duration.ofMillis(syncIntervalMs))
        .trustedProxies(commaSeparated(trustedProxies))
        .maxFrameBytes(maxFrameBytes).maxPendingRequests(maxPendingRequests).maxInFlight(maxInFlight)
        .ackTimeout(Duration.ofMillis(ackTimeoutMs)).maxDeliver(maxDeliver).idleTimeout(Duration.ofMillis(idleTimeoutMs))
        .actorCacheMessages(actorCacheMessages).actorCacheBytes(actorCacheBytes)
        .groupCommit(new GroupCommitPolicy(commitMaxMessages, commitMaxBytes, commitMaxDelayMicros))
        .writeQueueBatches(writeQueueBatches).storeCacheMb(storeCacheMb).webSocketCompression(webSocketCompression)
        .dedupWindow(Duration.ofMillis(dedupWindowMs)).dedupMaxEntries(dedupMaxEntries)
        .s3(new S3Settings(s3Endpoint, s3Bucket, s3AccessKey, s3SecretKey, s3Region, s3TransferThreads, s3ArchiveThreads,
            s3PartSizeBytes, filesMaxListLimit))
        .archivePolicy(new ArchivePolicy(Duration.ofMillis(checkpointIntervalMs), hotWindowMessages, hotWindowBytes,
            Duration.ofMillis(hotWindowAgeMs), Duration.ofMillis(checkpointRetryMinMs), Duration.ofMillis(checkpointRetryMaxMs)))
        .checkpointOnStop(Duration.ofMillis(checkpointOnStopMs))
        .compaction(new CompactionPolicy(archiveCompactMinSegments, archiveCompactMaxSegments, archiveCompactSegmentBytes,
            archiveSweepKeys))
        .maxRecordsPerPost(maxRecordsPerPost).maxRecordsBodyBytes(maxRecordsBodyBytes).maxRecordsPerRead(maxRecordsPerRead)
        .longPollTimeout(Duration.ofMillis(longPollTimeoutMs)).maxLongPollWaiters(maxLongPollWaiters)
        .maxFileShare(Duration.ofSeconds(filesMaxShareSeconds))
        .anonymousAccess(AnonymousAccess.parse(anonymous)).maxAppendBytes(maxAppendBytes)
        .memoryBudgetBytes(memoryBudgetBytes).connectionBudgetBytes(connectionBudgetBytes)
        .uploadLimits(new FileUploadLimits(filesMaxUploads, filesMaxUploadsPerClient, filesMinUploadBytes,
            Duration.ofMillis(filesMinUploadIntervalMs)))
        .jwt(new JwtSettings(blankToNull(jwtSecret), publicKeyPem(blankToNull(jwtPublicKey)), blankToNull(jwtIssuer),
            commaSeparated(jwtAudience)))
        .connectionLimits(new ConnectionLimits(maxConnections, ratePerSocket, rateBurst,
            Duration.ofMillis(slowConsumerGraceMs), maxActiveSubjects, Duration.ofMillis(idleConnectionTimeoutMs),
            Duration.ofMillis(requestHeaderTimeoutMs), Duration.ofMillis(pingIntervalMs)))
        .nats(new NatsSettings(natsPort, natsMaxPayload, NatsSettings.DEFAULT.maxControlLine(), natsMaxPendingBytes,
            natsMaxSubscriptions, NatsSettings.DEFAULT.authTimeout(), commaSeparated(natsEphemeral), natsMaxWildcardSubjects))
        .retention(new RetentionSettings(new Limits(retentionMaxAgeMs, retentionMaxMessages, retentionMaxBytes,
            retentionMaxMessageSize, Discard.parse(retentionDiscard)), Duration.ofMillis(retentionSweepIntervalMs),
            retentionSweepSubjects, retentionSweepDeletions, retentionMaxRules,
            Duration.ofMillis(retentionRefreshIntervalMs)));
    if (tlsCert != null || tlsKey != null) {
      if (tlsCert == null || tlsKey == null) {
        throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key (DSTREAM_TLS_CERT, DSTREAM_TLS_KEY)");
      }
      builder.tls(new TlsSettings(tlsCert, tlsKey));
    }
    if (shards > 0) {
      builder.shards(shards);
    }
    if (clusterNodeId != null && !clusterNodeId.isBlank()) {
      builder.cluster(new ClusterSettings(clusterNodeId.trim(), ClusterSettings.parsePeers(commaSeparated(clusterPeers)),
          clusterReplicas, clusterPartitions, clusterPlacementTokens, Duration.ofMillis(clusterElectionMinMs),
          Duration.ofMillis(clusterElectionMaxMs), Duration.ofMillis(clusterStepDownWaitMs), clusterSnapshotEntries,
          Duration.ofMillis(clusterForwardTimeoutMs), clusterMaxEntryBytes, Duration.ofMillis(clusterMemberTimeoutMs),
          clusterLogSegmentBytes, Duration.ofMillis(clusterStoreCommitMs),
          new ClusterSettings.Copy(clusterCopyPageBytes, Duration.ofMillis(clusterCopyPageTimeoutMs))));
    }
    return builder.build();
  }

  private static List<String> commaSeparated(String value) {
    return value == null || value.isBlank() ? List.of()
        : Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  /** The variable holds either the PEM text itself or the path of a PEM file. */
  private static String publicKeyPem(String value) {
    if (value == null || value.contains("-----BEGIN")) {
      return value;
    }
    try {
      return Files.readString(Path.of(value));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the JWT public key file " + value + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Integer call() {
    BrokerConfig config;
    try {
      config = toConfig();
    } catch (IllegalArgumentException e) {
      LOG.error("invalid configuration: {}", e.getMessage());
      return 2;
    }
    Vertx vertx;
    try {
      vertx = config.cluster() == null ? Vertx.vertx() : ClusterNode.clusteredVertx(config.cluster()).await();
    } catch (Exception e) {
      LOG.error("cannot join the cluster: {}", e.getMessage(), e);
      return 1;
    }
    OutOfMemoryGuard.watch(vertx);
    Broker broker;
    try {
      broker = Broker.start(vertx, config).await();
    } catch (Exception e) {
      if (portInUse(e)) {
        LOG.error("broker failed to start: port {} on {} is in use; stop what listens there or choose another port"
            + " with --port or DSTREAM_PORT (0 = any free port)", config.port(), config.host());
      } else {
        LOG.error("broker failed to start: {}", e.getMessage(), e);
      }
      vertx.close().await();
      return 1;
    }
    // Vert.x's non-daemon event-loop threads keep the JVM running until this hook has stopped it.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping");
      // The last checkpoints come first in a stop; the rest keeps its own bound after them.
      awaitQuietly(broker.stop(), "broker stop", SHUTDOWN_TIMEOUT_SECONDS + config.checkpointOnStop().toSeconds());
      awaitQuietly(vertx.close(), "vert.x close", SHUTDOWN_TIMEOUT_SECONDS);
      LOG.info("stopped");
    }, "dstream-shutdown"));
    return 0;
  }

  private static boolean portInUse(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      // NIO reports a BindException, Netty's native transports an IOException with the OS's message.
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  private static void awaitQuietly(Future<?> future, String what, long seconds) {
    try {
      future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("{} did not finish cleanly: {}", what, e.toString());
    }
  }

  /**
   * On a machine of one or two cores the JDK sizes the common fork-join pool to one thread, and then
   * every async step of a {@code CompletableFuture} given no executor starts a thread of its own.
   * Ratis's followers run each append of a Raft log through such a step: under load a follower on
   * 2 cores started about 180 threads a second (JFR thread-start events), time in thread creation
   * and the scheduler that a bigger machine never spends. Two threads give it the pool it has there.
   * Must run before anything touches the common pool; an operator's own setting wins.
   */
  private static void sizeCommonPool() {
    String parallelism = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(parallelism) == null && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty(parallelism, "2");
    }
  }

  public static void main(String[] args) {
    sizeCommonPool();
    OutOfMemoryGuard.install();
    int code = new CommandLine(new Main()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
