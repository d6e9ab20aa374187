package io.dstream.broker.archive;

import java.util.List;
import java.util.Optional;

/**
 * The archive's view of object storage: whole small objects by key. Every operation is idempotent
 * (a repeated put writes the same bytes, deleting an absent key succeeds), so a caller may retry
 * any of them after a failure without checking what happened.
 *
 * <p>Methods block and throw whatever the client throws; callers run them on a worker pool.
 * Implementations are thread-safe.
 */
public interface ObjectStore {

  /** The object's bytes, or empty if there is no such key. */
  Optional<byte[]> get(String key) throws Exception;

  /** Stores (or replaces) the object. */
  void put(String key, byte[] bytes, String contentType) throws Exception;

  /** Deletes the keys; absent keys are ignored. */
  void delete(List<String> keys) throws Exception;

  /** True if any key starts with {@code prefix}. */
  boolean anyWithPrefix(String prefix) throws Exception;

  /** Every key that starts with {@code prefix}, in key order. */
  List<String> list(String prefix) throws Exception;

  /**
   * One page of the keys that start with {@code prefix} and sort after {@code startAfter} ({@code null}:
   * from the first), in key order, at most {@code maxKeys} of them (one listing request).
   */
  List<String> list(String prefix, String startAfter, int maxKeys) throws Exception;
}
