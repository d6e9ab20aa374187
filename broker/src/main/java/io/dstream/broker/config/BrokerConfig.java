package io.dstream.broker.config;

import io.dstream.broker.auth.AnonymousAccess;
import io.dstream.broker.store.GroupCommitPolicy;
import io.dstream.broker.store.SyncMode;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Immutable broker settings. Every bound the broker enforces lives here, so that nothing grows
 * without a limit an operator can see and change. Built with {@link #builder()}; {@link io.dstream.broker.Main}
 * fills it from command-line flags and {@code DSTREAM_*} environment variables.
 */
public final class BrokerConfig {

  private final String host;
  private final int port;
  private final Path dataDir;
  private final String apiKey;
  private final SyncMode syncMode;
  private final Duration osSyncInterval;
  private final List<String> trustedProxies;
  private final int maxFrameBytes;
  private final int maxPendingRequests;
  private final int maxInFlight;
  private final Duration ackTimeout;
  private final int maxDeliver;
  private final Duration idleTimeout;
  private final int actorCacheMessages;
  private final int actorCacheBytes;
  private final int shards;
  private final GroupCommitPolicy groupCommit;
  private final int writeQueueBatches;
  private final int storeCacheMb;
  private final boolean webSocketCompression;
  private final Duration dedupWindow;
  private final int dedupMaxEntries;
  private final S3Settings s3;
  private final ArchivePolicy archivePolicy;
  private final Duration checkpointOnStop;
  private final CompactionPolicy compaction;
  private final AnonymousAccess anonymousAccess;
  private final int maxAppendBytes;
  private final JwtSettings jwt;
  private final TlsSettings tls;
  private final ConnectionLimits connectionLimits;
  private final int maxRecordsPerPost;
  private final int maxRecordsBodyBytes;
  private final int maxRecordsPerRead;
  private final Duration longPollTimeout;
  private final int maxLongPollWaiters;
  private final Duration maxFileShare;
  private final long memoryBudgetBytes;
  private final long connectionBudgetBytes;
  private final FileUploadLimits uploadLimits;
  private final NatsSettings nats;
  private final RetentionSettings retention;
  private final ClusterSettings cluster;
  private final Clock clock;

  private BrokerConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    // Absolute and without "." or ".." steps: the embedded S3 server refuses every request under a
    // base directory whose path holds them ("./data" became "..././data/s3" and was taken for a
    // path traversal), and logs and error messages should name the real place.
    this.dataDir = Objects.requireNonNull(b.dataDir, "dataDir").toAbsolutePath().normalize();
    this.apiKey = b.apiKey;
    this.syncMode = Objects.requireNonNull(b.syncMode, "syncMode");
    this.osSyncInterval = positive(b.osSyncInterval, "osSyncInterval");
    this.trustedProxies = List.copyOf(b.trustedProxies);
    this.maxFrameBytes = positive(b.maxFrameBytes, "maxFrameBytes");
    this.maxPendingRequests = positive(b.maxPendingRequests, "maxPendingRequests");
    this.maxInFlight = positive(b.maxInFlight, "maxInFlight");
    this.ackTimeout = positive(b.ackTimeout, "ackTimeout");
    this.maxDeliver = positive(b.maxDeliver, "maxDeliver");
    this.idleTimeout = positive(b.idleTimeout, "idleTimeout");
    this.actorCacheMessages = positive(b.actorCacheMessages, "actorCacheMessages");
    this.actorCacheBytes = positive(b.actorCacheBytes, "actorCacheBytes");
    this.shards = positive(b.shards, "shards");
    this.groupCommit = Objects.requireNonNull(b.groupCommit, "groupCommit");
    this.writeQueueBatches = positive(b.writeQueueBatches, "writeQueueBatches");
    this.storeCacheMb = positive(b.storeCacheMb, "storeCacheMb");
    this.webSocketCompression = b.webSocketCompression;
    this.dedupWindow = positive(b.dedupWindow, "dedupWindow");
    this.dedupMaxEntries = positive(b.dedupMaxEntries, "dedupMaxEntries");
    this.s3 = Objects.requireNonNull(b.s3, "s3");
    this.archivePolicy = Objects.requireNonNull(b.archivePolicy, "archivePolicy");
    this.checkpointOnStop = Objects.requireNonNull(b.checkpointOnStop, "checkpointOnStop");
    if (checkpointOnStop.isNegative()) {
      throw new IllegalArgumentException("checkpointOnStop must be >= 0, got " + checkpointOnStop);
    }
    this.compaction = Objects.requireNonNull(b.compaction, "compaction");
    this.anonymousAccess = Objects.requireNonNull(b.anonymousAccess, "anonymousAccess");
    this.maxAppendBytes = positive(b.maxAppendBytes, "maxAppendBytes");
    this.jwt = Objects.requireNonNull(b.jwt, "jwt");
    this.tls = b.tls;
    this.connectionLimits = Objects.requireNonNull(b.connectionLimits, "connectionLimits");
    this.maxRecordsPerPost = positive(b.maxRecordsPerPost, "maxRecordsPerPost");
    this.maxRecordsBodyBytes = positive(b.maxRecordsBodyBytes, "maxRecordsBodyBytes");
    this.maxRecordsPerRead = positive(b.maxRecordsPerRead, "maxRecordsPerRead");
    this.longPollTimeout = positive(b.longPollTimeout, "longPollTimeout");
    this.maxLongPollWaiters = positive(b.maxLongPollWaiters, "maxLongPollWaiters");
    this.maxFileShare = positive(b.maxFileShare, "maxFileShare");
    if (b.memoryBudgetBytes < 0 || b.connectionBudgetBytes <= 0) {
      throw new IllegalArgumentException("memory budgets must be > 0 (the broker-wide one 0 = a quarter of the heap)");
    }
    this.memoryBudgetBytes = b.memoryBudgetBytes == 0 ? Runtime.getRuntime().maxMemory() / 4 : b.memoryBudgetBytes;
    this.connectionBudgetBytes = b.connectionBudgetBytes;
    this.uploadLimits = Objects.requireNonNull(b.uploadLimits, "uploadLimits");
    this.nats = Objects.requireNonNull(b.nats, "nats");
    this.retention = Objects.requireNonNull(b.retention, "retention");
    this.cluster = b.cluster;
    this.clock = Objects.requireNonNull(b.clock, "clock");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
  }

  private static int positive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }
    return value;
  }

  private static Duration positive(Duration value, String name) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration, got " + value);
    }
    return value;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .host(host).port(port).dataDir(dataDir).apiKey(apiKey).syncMode(syncMode).osSyncInterval(osSyncInterval)
        .trustedProxies(trustedProxies).maxFrameBytes(maxFrameBytes).maxPendingRequests(maxPendingRequests)
        .maxInFlight(maxInFlight).ackTimeout(ackTimeout).maxDeliver(maxDeliver).idleTimeout(idleTimeout)
        .actorCacheMessages(actorCacheMessages).actorCacheBytes(actorCacheBytes).shards(shards)
        .groupCommit(groupCommit).writeQueueBatches(writeQueueBatches).storeCacheMb(storeCacheMb)
        .webSocketCompression(webSocketCompression).s3(s3).archivePolicy(archivePolicy).compaction(compaction)
        .checkpointOnStop(checkpointOnStop)
        .jwt(jwt).tls(tls).connectionLimits(connectionLimits)
        .dedupWindow(dedupWindow).dedupMaxEntries(dedupMaxEntries)
        .maxRecordsPerPost(maxRecordsPerPost).maxRecordsBodyBytes(maxRecordsBodyBytes)
        .maxRecordsPerRead(maxRecordsPerRead).longPollTimeout(longPollTimeout).maxLongPollWaiters(maxLongPollWaiters)
        .maxFileShare(maxFileShare).anonymousAccess(anonymousAccess).maxAppendBytes(maxAppendBytes)
        .memoryBudgetBytes(memoryBudgetBytes).connectionBudgetBytes(connectionBudgetBytes).uploadLimits(uploadLimits)
        .nats(nats).retention(retention).clock(clock).cluster(cluster);
  }

  /** Bind address of the HTTP/WebSocket listener. */
  public String host() { return host; }

  /** Listener port; 0 picks a free port. */
  public int port() { return port; }

  /** Directory holding the H2 file and the generated API key. */
  public Path dataDir() { return dataDir; }

  /** Configured API key, or {@code null} to use (or create) the key file in the data dir. */
  public String apiKey() { return apiKey; }

  /** When a write counts as durable enough to acknowledge. */
  public SyncMode syncMode() { return syncMode; }
  /** With {@link SyncMode#OS}: the longest time a commit stays unforced (an OS crash loses at most this much). */
  public Duration osSyncInterval() { return osSyncInterval; }

  /** Addresses or CIDR ranges whose {@code X-Forwarded-For} header is believed. */
  public List<String> trustedProxies() { return trustedProxies; }

  /** Largest WebSocket frame or reassembled message accepted; larger closes the socket with 1009. */
  public int maxFrameBytes() { return maxFrameBytes; }

  /** Requests one socket may have awaiting a reply before the broker stops reading from it. */
  public int maxPendingRequests() { return maxPendingRequests; }

  /** Unacknowledged pushes per subscriber; further messages wait in the log. */
  public int maxInFlight() { return maxInFlight; }

  /** Time after which an unacknowledged push is delivered again. */
  public Duration ackTimeout() { return ackTimeout; }

  /** Deliveries of one message to one subscriber before it is skipped. */
  public int maxDeliver() { return maxDeliver; }

  /** Time an actor with no sockets and no activity stays in memory. */
  public Duration idleTimeout() { return idleTimeout; }

  /** Most recent messages an actor keeps in memory for live delivery (count bound). */
  public int actorCacheMessages() { return actorCacheMessages; }

  /** Most recent messages an actor keeps in memory for live delivery (byte bound). */
  public int actorCacheBytes() { return actorCacheBytes; }

  /** Number of subject directories (shards), each bound to one event-loop context. */
  public int shards() { return shards; }

  /** Thresholds of the group-commit writer. */
  public GroupCommitPolicy groupCommit() { return groupCommit; }

  /** Write batches (one per busy subject) the writer queue holds before publishes are refused. */
  public int writeQueueBatches() { return writeQueueBatches; }

  /** Page cache of the H2 store in MiB. */
  public int storeCacheMb() { return storeCacheMb; }

  /**
   * Whether WebSocket permessage-deflate is offered. Off by default: for small JSON messages it
   * costs far more CPU than it saves bandwidth (docs/configuration.md).
   */
  public boolean webSocketCompression() { return webSocketCompression; }

  /** How long a publish's {@code (clientId, cMsgId)} is remembered, so a retried publish is not stored twice. */
  public Duration dedupWindow() { return dedupWindow; }

  /** Most {@code (clientId, cMsgId)} entries remembered per subject; the oldest go first beyond it. */
  public int dedupMaxEntries() { return dedupMaxEntries; }

  /** The S3 endpoint (or the embedded one) for files and checkpoints. */
  public S3Settings s3() { return s3; }

  /** Checkpoint interval, hot window and retry bounds of the archive (docs/storage.md). */
  public ArchivePolicy archivePolicy() { return archivePolicy; }

  /** The longest a clean stop waits for the last checkpoints of the subjects the bucket is behind on; 0: none. */
  public Duration checkpointOnStop() { return checkpointOnStop; }

  /** Compaction and orphan sweep bounds of the archive's segments (docs/consumers-and-retention.md). */
  public CompactionPolicy compaction() { return compaction; }
  /** What requests without credentials may do on the stream surfaces. */
  public AnonymousAccess anonymousAccess() { return anonymousAccess; }

  /** Largest body of one Durable Streams append or create; larger is refused with 413. */
  public int maxAppendBytes() { return maxAppendBytes; }

  /** How JWT bearer tokens are verified; {@link JwtSettings#DISABLED} accepts only the API key. */
  public JwtSettings jwt() { return jwt; }

  /** Certificate and key for HTTPS/WSS on the one port, or null for plain HTTP. */
  public TlsSettings tls() { return tls; }

  /** Per-connection and broker-wide bounds on clients. */
  public ConnectionLimits connectionLimits() { return connectionLimits; }

  /** Records API: most records one POST may append. */
  public int maxRecordsPerPost() { return maxRecordsPerPost; }

  /** Records API: largest POST body; larger is refused with 413. */
  public int maxRecordsBodyBytes() { return maxRecordsBodyBytes; }

  /** Records API: most records one GET returns (its {@code limit} is capped to this). */
  public int maxRecordsPerRead() { return maxRecordsPerRead; }

  /** The longest a long-poll waits before answering (requests asking for more are capped). */
  public Duration longPollTimeout() { return longPollTimeout; }

  /** Long-polls waiting at once across the broker; more are refused with 503. */
  public int maxLongPollWaiters() { return maxLongPollWaiters; }

  /** The longest lifetime of a file share link ({@code GET /r2/{key}?share=SECONDS}). */
  public Duration maxFileShare() { return maxFileShare; }
  /**
   * Bytes all clients together may make the broker hold (outbound replies and pushes not yet taken,
   * request bodies not yet answered, upload buffers); new work beyond it is refused with
   * {@code overloaded}. Built from 0, it is a quarter of the JVM's maximum heap.
   */
  public long memoryBudgetBytes() { return memoryBudgetBytes; }

  /** Bytes one WebSocket may make the broker hold before it gets no more pushes and is not read. */
  public long connectionBudgetBytes() { return connectionBudgetBytes; }

  /** The NATS client protocol's port and limits. */
  public NatsSettings nats() { return nats; }

  /** Concurrency and minimum-rate bounds of {@code /r2} uploads. */
  public FileUploadLimits uploadLimits() { return uploadLimits; }

  /** The broker-wide retention default and the bounds of the retention sweeper. */
  public RetentionSettings retention() { return retention; }

  /** Cluster mode's settings (docs/cluster.md), or null in single-node mode. */
  public ClusterSettings cluster() { return cluster; }

  /**
   * The clock of publish times and of retention by age (system UTC; tests move a clock of their own
   * forward instead of sleeping).
   */
  public Clock clock() { return clock; }

  /** Mutable builder with the documented defaults. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 8787;
    private Path dataDir = Path.of("data");
    private String apiKey;
    private SyncMode syncMode = SyncMode.ALWAYS;
    private Duration osSyncInterval = Duration.ofMillis(200);
    private List<String> trustedProxies = List.of();
    private int maxFrameBytes = 1024 * 1024;
    private int maxPendingRequests = 1024;
    private int maxInFlight = 256;
    private Duration ackTimeout = Duration.ofSeconds(30);
    private int maxDeliver = 5;
    private Duration idleTimeout = Duration.ofSeconds(60);
    private int actorCacheMessages = 1024;
    private int actorCacheBytes = 256 * 1024;
    private int shards = 2 * Runtime.getRuntime().availableProcessors();
    private GroupCommitPolicy groupCommit = GroupCommitPolicy.DEFAULT;
    private int writeQueueBatches = 65_536;
    private int storeCacheMb = 64;
    private boolean webSocketCompression;
    private Duration dedupWindow = Duration.ofMinutes(2);
    private int dedupMaxEntries = 10_000;
    private S3Settings s3 = S3Settings.EMBEDDED;
    private ArchivePolicy archivePolicy = ArchivePolicy.DEFAULT;
    private Duration checkpointOnStop = Duration.ofSeconds(5);
    private CompactionPolicy compaction = CompactionPolicy.DEFAULT;
    private AnonymousAccess anonymousAccess = AnonymousAccess.NONE;
    private int maxAppendBytes = 16 * 1024 * 1024;
    private JwtSettings jwt = JwtSettings.DISABLED;
    private TlsSettings tls;
    private ConnectionLimits connectionLimits = ConnectionLimits.DEFAULT;
    private int maxRecordsPerPost = 1000;
    private int maxRecordsBodyBytes = 1024 * 1024;
    private int maxRecordsPerRead = 1000;
    private Duration longPollTimeout = Duration.ofSeconds(30);
    private int maxLongPollWaiters = 10_000;
    private Duration maxFileShare = Duration.ofDays(7);
    private long memoryBudgetBytes;
    private long connectionBudgetBytes = 256 * 1024;
    private NatsSettings nats = NatsSettings.DEFAULT;
    private FileUploadLimits uploadLimits = FileUploadLimits.DEFAULT;
    private RetentionSettings retention = RetentionSettings.DEFAULT;
    private ClusterSettings cluster;
    private Clock clock = Clock.systemUTC();

    private Builder() {
    }

    public Builder host(String host) { this.host = Objects.requireNonNull(host); return this; }
    public Builder port(int port) { this.port = port; return this; }
    public Builder dataDir(Path dataDir) { this.dataDir = dataDir; return this; }
    public Builder apiKey(String apiKey) { this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey; return this; }
    public Builder syncMode(SyncMode syncMode) { this.syncMode = syncMode; return this; }
    public Builder osSyncInterval(Duration osSyncInterval) { this.osSyncInterval = osSyncInterval; return this; }
    public Builder trustedProxies(List<String> trustedProxies) { this.trustedProxies = trustedProxies; return this; }
    public Builder maxFrameBytes(int maxFrameBytes) { this.maxFrameBytes = maxFrameBytes; return this; }
    public Builder maxPendingRequests(int maxPendingRequests) { this.maxPendingRequests = maxPendingRequests; return this; }
    public Builder maxInFlight(int maxInFlight) { this.maxInFlight = maxInFlight; return this; }
    public Builder ackTimeout(Duration ackTimeout) { this.ackTimeout = ackTimeout; return this; }
    public Builder maxDeliver(int maxDeliver) { this.maxDeliver = maxDeliver; return this; }
    public Builder idleTimeout(Duration idleTimeout) { this.idleTimeout = idleTimeout; return this; }
    public Builder actorCacheMessages(int actorCacheMessages) { this.actorCacheMessages = actorCacheMessages; return this; }
    public Builder actorCacheBytes(int actorCacheBytes) { this.actorCacheBytes = actorCacheBytes; return this; }
    public Builder shards(int shards) { this.shards = shards; return this; }
    public Builder groupCommit(GroupCommitPolicy groupCommit) { this.groupCommit = groupCommit; return this; }
    public Builder writeQueueBatches(int writeQueueBatches) { this.writeQueueBatches = writeQueueBatches; return this; }
    public Builder storeCacheMb(int storeCacheMb) { this.storeCacheMb = storeCacheMb; return this; }
    public Builder webSocketCompression(boolean enabled) { this.webSocketCompression = enabled; return this; }
    public Builder dedupWindow(Duration dedupWindow) { this.dedupWindow = dedupWindow; return this; }
    public Builder dedupMaxEntries(int dedupMaxEntries) { this.dedupMaxEntries = dedupMaxEntries; return this; }
    public Builder s3(S3Settings s3) { this.s3 = s3; return this; }
    public Builder archivePolicy(ArchivePolicy archivePolicy) { this.archivePolicy = archivePolicy; return this; }
    public Builder checkpointOnStop(Duration checkpointOnStop) { this.checkpointOnStop = checkpointOnStop; return this; }
    public Builder compaction(CompactionPolicy compaction) { this.compaction = compaction; return this; }
    public Builder anonymousAccess(AnonymousAccess anonymousAccess) { this.anonymousAccess = anonymousAccess; return this; }
    public Builder maxAppendBytes(int maxAppendBytes) { this.maxAppendBytes = maxAppendBytes; return this; }
    public Builder jwt(JwtSettings jwt) { this.jwt = jwt; return this; }
    public Builder tls(TlsSettings tls) { this.tls = tls; return this; }
    public Builder connectionLimits(ConnectionLimits limits) { this.connectionLimits = limits; return this; }
    public Builder maxRecordsPerPost(int maxRecordsPerPost) { this.maxRecordsPerPost = maxRecordsPerPost; return this; }
    public Builder maxRecordsBodyBytes(int maxRecordsBodyBytes) { this.maxRecordsBodyBytes = maxRecordsBodyBytes; return this; }
    public Builder maxRecordsPerRead(int maxRecordsPerRead) { this.maxRecordsPerRead = maxRecordsPerRead; return this; }
    public Builder longPollTimeout(Duration longPollTimeout) { this.longPollTimeout = longPollTimeout; return this; }
    public Builder maxLongPollWaiters(int maxLongPollWaiters) { this.maxLongPollWaiters = maxLongPollWaiters; return this; }
    public Builder maxFileShare(Duration maxFileShare) { this.maxFileShare = maxFileShare; return this; }
    /** 0 = a quarter of the JVM's maximum heap. */
    public Builder memoryBudgetBytes(long bytes) { this.memoryBudgetBytes = bytes; return this; }
    public Builder connectionBudgetBytes(long bytes) { this.connectionBudgetBytes = bytes; return this; }
    public Builder nats(NatsSettings settings) { this.nats = settings; return this; }
    public Builder uploadLimits(FileUploadLimits limits) { this.uploadLimits = limits; return this; }
    public Builder retention(RetentionSettings settings) { this.retention = settings; return this; }
    public Builder cluster(ClusterSettings settings) { this.cluster = settings; return this; }
    public Builder clock(Clock clock) { this.clock = clock; return this; }

    public BrokerConfig build() {
      return new BrokerConfig(this);
    }
  }
}
