package io.dstream.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The SQLite file an export writes, and its high-water marks.
 *
 * <p>Schema (docs/cli.md shows queries):
 * <ul>
 *   <li>{@code subjects(subject, first_sequence, last_sequence, messages, bytes, exported_sequence,
 *       state_crc32, exported_at)}: one row per subject as last listed; {@code exported_sequence} is the
 *       high-water mark, every retained message up to it is in {@code messages};
 *       {@code state_crc32} is that of the exported state;</li>
 *   <li>{@code messages(subject, sequence, ts, data, client_id, ip)}: {@code ts} in epoch ms,
 *       {@code data} the published value as JSON text (TEXT affinity, so numbers keep their exact digits);</li>
 *   <li>{@code state(subject, state)}: the state object as JSON text.</li>
 * </ul>
 * A page of messages and its high-water mark are written in one transaction, so an interrupted export
 * resumes where it stopped. Messages deleted on the broker stay in the file. Not thread-safe.
 */
final class SqliteExport implements AutoCloseable {

  /** What the file knew about a subject before this run. */
  record Mark(long exportedSequence, Long stateCrc32) {
  }

  private final Connection db;

  SqliteExport(Path file) throws SQLException {
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement statement = db.createStatement()) {
      statement.executeUpdate("PRAGMA journal_mode=WAL");
      statement.executeUpdate("CREATE TABLE IF NOT EXISTS subjects (subject TEXT PRIMARY KEY,"
          + " first_sequence INTEGER NOT NULL, last_sequence INTEGER NOT NULL, messages INTEGER NOT NULL,"
          + " bytes INTEGER NOT NULL, exported_sequence INTEGER NOT NULL DEFAULT 0, state_crc32 INTEGER,"
          + " exported_at INTEGER NOT NULL)");
      statement.executeUpdate("CREATE TABLE IF NOT EXISTS messages (subject TEXT NOT NULL, sequence INTEGER NOT NULL,"
          + " ts INTEGER NOT NULL, data TEXT, client_id TEXT, ip TEXT, PRIMARY KEY (subject, sequence)) WITHOUT ROWID");
      statement.executeUpdate("CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts)");
      statement.executeUpdate("CREATE TABLE IF NOT EXISTS state (subject TEXT PRIMARY KEY, state TEXT NOT NULL)");
    }
    db.setAutoCommit(false);
  }

  /** @return the subject's marks, zero and null for a subject never exported */
  Mark mark(String subject) throws SQLException {
    try (PreparedStatement select = db.prepareStatement(
        "SELECT exported_sequence, state_crc32 FROM subjects WHERE subject = ?")) {
      select.setString(1, subject);
      try (ResultSet row = select.executeQuery()) {
        if (!row.next()) {
          return new Mark(0, null);
        }
        long crc = row.getLong(2);
        return new Mark(row.getLong(1), row.wasNull() ? null : crc);
      }
    }
  }

  /** Records the subject's listed numbers, keeping its marks. */
  void subject(JsonObject summary) throws SQLException {
    try (PreparedStatement upsert = db.prepareStatement("INSERT INTO subjects (subject, first_sequence, last_sequence,"
        + " messages, bytes, exported_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET"
        + " first_sequence = excluded.first_sequence, last_sequence = excluded.last_sequence,"
        + " messages = excluded.messages, bytes = excluded.bytes, exported_at = excluded.exported_at")) {
      upsert.setString(1, summary.getString("subject"));
      upsert.setLong(2, summary.getLong("firstSequence"));
      upsert.setLong(3, summary.getLong("lastSequence"));
      upsert.setLong(4, summary.getLong("messages"));
      upsert.setLong(5, summary.getLong("bytes"));
      upsert.setLong(6, System.currentTimeMillis());
      upsert.executeUpdate();
    }
    db.commit();
  }

  /** Stores a page of {@code {"sequence","ts","message"}} and moves the high-water mark, in one transaction. */
  void messages(String subject, JsonArray page, long exportedSequence) throws SQLException {
    try (PreparedStatement insert = db.prepareStatement("INSERT OR REPLACE INTO messages (subject, sequence, ts, data,"
        + " client_id, ip) VALUES (?, ?, ?, ?, ?, ?)");
         PreparedStatement mark = db.prepareStatement("UPDATE subjects SET exported_sequence = ? WHERE subject = ?")) {
      for (int i = 0; i < page.size(); i++) {
        JsonObject entry = page.getJsonObject(i);
        JsonObject stored = entry.getJsonObject("message");
        insert.setString(1, subject);
        insert.setLong(2, entry.getLong("sequence"));
        insert.setLong(3, entry.getLong("ts"));
        insert.setString(4, stored.containsKey("data") ? JsonArgs.json(stored.getValue("data")) : null);
        insert.setString(5, stored.getValue("clientId") == null ? null : String.valueOf(stored.getValue("clientId")));
        insert.setString(6, stored.getString("ip"));
        insert.addBatch();
      }
      insert.executeBatch();
      mark.setLong(1, exportedSequence);
      mark.setString(2, subject);
      mark.executeUpdate();
      db.commit();
    } catch (SQLException e) {
      db.rollback();
      throw e;
    }
  }

  /** Stores the subject's state and its CRC, in one transaction. */
  void state(String subject, JsonObject state, long crc32) throws SQLException {
    try (PreparedStatement upsert = db.prepareStatement("INSERT OR REPLACE INTO state (subject, state) VALUES (?, ?)");
         PreparedStatement mark = db.prepareStatement("UPDATE subjects SET state_crc32 = ? WHERE subject = ?")) {
      upsert.setString(1, subject);
      upsert.setString(2, state.encode());
      upsert.executeUpdate();
      mark.setLong(1, crc32);
      mark.setString(2, subject);
      mark.executeUpdate();
      db.commit();
    } catch (SQLException e) {
      db.rollback();
      throw e;
    }
  }

  @Override
  public void close() throws SQLException {
    db.close();
  }
}
