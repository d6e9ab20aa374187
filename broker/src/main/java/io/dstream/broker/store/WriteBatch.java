package io.dstream.broker.store;

import io.vertx.core.Context;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * The writes of one subject handed to the {@link GroupCommitWriter} as a unit. {@code onDone} runs on
 * {@code context} (the owning actor's) once the writes are committed under the broker's
 * {@link SyncMode}, with the subject's record after the batch, or with the failure.
 */
public record WriteBatch(String subject, List<StoreWrite> writes, Context context,
                         BiConsumer<SubjectRecord, Throwable> onDone) {

  /** Payload bytes of its writes. */
  public int bytes() {
    int total = 0;
    for (StoreWrite write : writes) {
      total += write.bytes();
    }
    return total;
  }
}
