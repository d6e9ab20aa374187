package io.dstream.broker.store;

/**
 * How much the local store holds, read without a scan (for the overview meters).
 *
 * @param subjects  subjects with a record
 * @param messages  messages held in the local store (checkpointed messages the archive evicted are not counted)
 * @param fileBytes size of the store file on disk
 */
public record StoreSize(long subjects, long messages, long fileBytes) {
}
