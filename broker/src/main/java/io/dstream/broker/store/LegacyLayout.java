package io.dstream.broker.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Migration of a store file of layout 1 (brokers before the append-ordered log) when it opens.
 * Layout 1 kept every message in one map {@code messages}: key {@link MessageKey} (subject id,
 * sequence), value {@link MessageValue} (publish time, payload). The {@code subjects} and {@code meta}
 * maps are the same in both layouts (older {@link SubjectRecord} formats decode as they are).
 *
 * <p>The migration copies the messages, subject by subject in sequence order, to the end of the
 * {@link MessageLog} (so each subject's messages become one run), committing every
 * {@link #COMMIT_EVERY} messages or {@link #COMMIT_EVERY_BYTES} payload bytes to bound the memory of uncommitted pages, and removes the
 * {@code messages} map in its last commit. Until that commit the old map is intact: a broker killed
 * during the migration finds it again at the next start, clears the partly filled log and starts
 * over. Runs on the thread that opens the store, before the broker listens.
 */
final class LegacyLayout {

  static final String MESSAGES_MAP = "messages";
  private static final Logger LOG = LoggerFactory.getLogger(LegacyLayout.class);
  private static final int COMMIT_EVERY = 50_000;
  private static final long COMMIT_EVERY_BYTES = 64L * 1024 * 1024;

  private LegacyLayout() {
  }

  /** Moves the messages of layout 1 into {@code log}; nothing when the file has no {@code messages} map. */
  static void migrate(MVStore store, MessageLog log) {
    if (!store.hasMap(MESSAGES_MAP)) {
      return;
    }
    MVMap<MessageKey, MessageValue> messages = store.openMap(MESSAGES_MAP,
        new MVMap.Builder<MessageKey, MessageValue>().keyType(MessageKey.Type.INSTANCE)
            .valueType(MessageValue.Type.INSTANCE));
    LOG.info("migrating {} messages to the append-ordered log (layout 2)", messages.sizeAsLong());
    log.clear();
    long copied = 0;
    long uncommittedBytes = 0;
    Cursor<MessageKey, MessageValue> cursor = messages.cursor(null);
    while (cursor.hasNext()) {
      MessageKey key = cursor.next();
      MessageValue value = cursor.getValue();
      log.appendIndexed(new LogEntry(key.subjectId(), key.sequence(), value.timestampMs(), value.payload()));
      copied++;
      uncommittedBytes += value.payload().length;
      if (copied % COMMIT_EVERY == 0 || uncommittedBytes >= COMMIT_EVERY_BYTES) {
        store.commit();
        uncommittedBytes = 0;
      }
    }
    log.markIndexed();
    store.removeMap(messages);
    store.commit();
    store.sync();
    LOG.info("migrated {} messages", copied);
  }
}
