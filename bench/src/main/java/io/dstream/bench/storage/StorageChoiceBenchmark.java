package io.dstream.bench.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.LongDataType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * H2 MVStore used directly vs H2 through JDBC, for the broker's write pattern.
 *
 * <p>One operation is one group commit: {@code batchSize} appends of 128-byte payloads keyed by
 * (subjectId, sequence), one commit and, with {@code sync}, one fsync. Messages/s is therefore
 * ops/s &times; batchSize.
 *
 * <p>Store files go to a fresh directory under {@code java.io.tmpdir} per trial; point that
 * property at the disk the broker will use, since fsync cost is a property of the device.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class StorageChoiceBenchmark {

    static final int PAYLOAD_BYTES = 128;
    static final int SEQ_BITS = 40;
    static final long SEQ_MASK = (1L << SEQ_BITS) - 1;
    /**
     * The broker folds appends to many subjects into one group commit, so a batch spreads over
     * several key ranges instead of one hot B-tree tail.
     */
    static final int SUBJECTS = 8;

    /**
     * A store in a fresh directory, plus the key sequence the appends walk through. Annotated
     * although abstract because JMH accepts {@code @Param} fields only in {@code @State} classes.
     */
    @State(Scope.Thread)
    public abstract static class AppendLog {
        @Param({"1", "100"})
        public int batchSize;

        @Param({"true", "false"})
        public boolean sync;

        final byte[] payload = new byte[PAYLOAD_BYTES];
        private final long[] nextSeq = new long[SUBJECTS];
        private int nextSubject;
        private Path dir;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            new Random(42).nextBytes(payload);
            dir = Files.createTempDirectory("storage-choice-");
            open(dir);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            try {
                close();
            } finally {
                deleteRecursively(dir);
            }
        }

        abstract void open(Path dir) throws Exception;

        abstract void close() throws Exception;

        /** Packs (subjectId, sequence) as {@code subjectId << 40 | seq}. */
        final long nextKey() {
            int subject = nextSubject;
            nextSubject = (subject + 1) % SUBJECTS;
            return ((long) subject << SEQ_BITS) | nextSeq[subject]++;
        }

        private static void deleteRecursively(Path root) throws IOException {
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    @State(Scope.Thread)
    public static class MvStoreLog extends AppendLog {
        MVStore store;
        MVMap<Long, byte[]> messages;

        @Override
        void open(Path dir) {
            // Without the background writer, commit() serializes and writes the chunk on the
            // calling thread, so the measured op includes the write, as it would in the broker.
            store = new MVStore.Builder()
                    .fileName(dir.resolve("log.mv.db").toString())
                    .autoCommitDisabled()
                    .open();
            messages = store.openMap("messages", new MVMap.Builder<Long, byte[]>()
                    .keyType(LongDataType.INSTANCE)
                    .valueType(ByteArrayDataType.INSTANCE));
        }

        @Override
        void close() {
            store.close();
        }

        byte[] record(long timestamp) {
            return ByteBuffer.allocate(Long.BYTES + PAYLOAD_BYTES)
                    .putLong(timestamp)
                    .put(payload)
                    .array();
        }
    }

    @State(Scope.Thread)
    public static class JdbcLog extends AppendLog {
        Connection connection;
        PreparedStatement insert;
        Statement checkpoint;

        @Override
        void open(Path dir) throws SQLException {
            connection = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("db"), "sa", "");
            try (Statement ddl = connection.createStatement()) {
                ddl.execute("CREATE TABLE messages(subject_id BIGINT, seq BIGINT, ts BIGINT,"
                        + " payload VARBINARY, PRIMARY KEY(subject_id, seq))");
            }
            connection.setAutoCommit(false);
            insert = connection.prepareStatement(
                    "INSERT INTO messages(subject_id, seq, ts, payload) VALUES (?, ?, ?, ?)");
            checkpoint = connection.createStatement();
        }

        @Override
        void close() throws SQLException {
            connection.close();
        }
    }

    @Benchmark
    public long mvstoreBatch(MvStoreLog log) {
        for (int i = 0; i < log.batchSize; i++) {
            log.messages.put(log.nextKey(), log.record(System.currentTimeMillis()));
        }
        long version = log.store.commit();
        if (log.sync) {
            log.store.sync();
        }
        return version;
    }

    @Benchmark
    public int jdbcBatch(JdbcLog log) throws SQLException {
        PreparedStatement insert = log.insert;
        for (int i = 0; i < log.batchSize; i++) {
            long key = log.nextKey();
            insert.setLong(1, key >>> SEQ_BITS);
            insert.setLong(2, key & SEQ_MASK);
            insert.setLong(3, System.currentTimeMillis());
            insert.setBytes(4, log.payload);
            insert.addBatch();
        }
        int rows = insert.executeBatch().length;
        log.connection.commit();
        if (log.sync) {
            // An H2 JDBC commit never forces the file; CHECKPOINT SYNC writes and fsyncs the store.
            log.checkpoint.execute("CHECKPOINT SYNC");
        }
        return rows;
    }
}
