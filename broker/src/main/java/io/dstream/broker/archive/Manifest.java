package io.dstream.broker.archive;

import io.dstream.broker.store.SubjectRecord;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What the bucket holds of one subject, rewritten by every checkpoint after its segments are
 * uploaded (so a manifest never names a segment that is not there yet).
 *
 * <p>Format ({@code manifest.json}, UTF-8 JSON):
 * <pre>
 * {"format":1, "subject":"orders.eu", "firstSequence":1, "lastSequence":42, "state":"{...}", "stateRevision":3,
 *  "producerVersion":0, "lastTimestamp":1763798399950, "attributes":"<base64>", "checkpointedAt":1763798400000,
 *  "segments":[{"key":"_dstream/subjects/orders.eu/segments/...seg.zst", "firstSequence":1, "lastSequence":40,
 *               "firstTimestamp":1763798399000, "lastTimestamp":1763798399950, "messages":40, "bytes":5120}]}
 * </pre>
 * {@code firstSequence..lastSequence} are the retained sequences when the checkpoint was taken
 * ({@code firstSequence > lastSequence}: none retained), {@code state} the state object then, its
 * JSON text as stored, in a JSON string (decoding and encoding it would change numbers such as
 * {@code 1e400}; manifests written before kept it as an object, which is still read),
 * {@code stateRevision} its revision then (manifests written before revisions existed lack it: their
 * state reads as revision 0 when it is {@code {}}, else 1, as old subject records do),
 * {@code producerVersion} the records API fencing token then, {@code lastTimestamp} the newest
 * publish time then (publish times stay non-decreasing across a restore), {@code attributes} the
 * protocol views' attributes of the subject then (opaque bytes, base64).
 * Segments are in sequence order, consecutive, and cover up to {@code lastSequence}; the first
 * may start before {@code firstSequence} (a deletion inside it), and such messages are never served.
 *
 * @param subject        the subject
 * @param firstSequence  first retained sequence
 * @param lastSequence   last sequence assigned (and checkpointed)
 * @param state          the state object's JSON text, as stored
 * @param stateRevision  the state's revision
 * @param producerVersion the records API producer version (fencing token)
 * @param lastTimestamp  the newest publish time (ms since the epoch)
 * @param attributes     the view attributes (opaque bytes)
 * @param checkpointedAt when the checkpoint was taken (ms since the epoch)
 * @param segments       the segments, in sequence order
 */
public record Manifest(String subject, long firstSequence, long lastSequence, String state, long stateRevision,
                       long producerVersion, long lastTimestamp, byte[] attributes, long checkpointedAt,
                       List<SegmentRef> segments) {

  static final int FORMAT = 1;
  static final String EMPTY_STATE = "{}";

  /** A segment as the manifest names it. */
  public record SegmentRef(String key, long firstSequence, long lastSequence, long firstTimestamp, long lastTimestamp,
                           long messages, long bytes) {

    JsonObject toJson() {
      return new JsonObject().put("key", key).put("firstSequence", firstSequence).put("lastSequence", lastSequence)
          .put("firstTimestamp", firstTimestamp).put("lastTimestamp", lastTimestamp)
          .put("messages", messages).put("bytes", bytes);
    }

    static SegmentRef fromJson(JsonObject json) {
      return new SegmentRef(json.getString("key"), json.getLong("firstSequence"), json.getLong("lastSequence"),
          json.getLong("firstTimestamp"), json.getLong("lastTimestamp"), json.getLong("messages"), json.getLong("bytes"));
    }
  }

  public Manifest {
    segments = List.copyOf(segments);
  }

  /** What a subject the bucket has never seen looks like. */
  public static Manifest empty(String subject) {
    return new Manifest(subject, 1, 0, EMPTY_STATE, 0, 0, 0, new byte[0], 0, List.of());
  }

  /** True if restoring from this manifest would bring anything back. */
  public boolean hasContent() {
    return lastSequence > 0 || !EMPTY_STATE.equals(state) || stateRevision != 0 || producerVersion != 0
        || attributes.length > 0;
  }

  /** The compact JSON encoding of a state object, to tell an empty one however it is written. */
  public static String normalizeState(byte[] stateJson) {
    return new JsonObject(new String(stateJson, StandardCharsets.UTF_8)).encode();
  }

  /** The segment holding {@code sequence}, or {@code null}. */
  public SegmentRef segmentContaining(long sequence) {
    int low = 0;
    int high = segments.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      SegmentRef segment = segments.get(mid);
      if (sequence < segment.firstSequence()) {
        high = mid - 1;
      } else if (sequence > segment.lastSequence()) {
        low = mid + 1;
      } else {
        return segment;
      }
    }
    return null;
  }

  /**
   * The manifest after a checkpoint: {@code added} segments appended, segments wholly below
   * {@code newFirst} dropped.
   */
  public Manifest next(long newFirst, long newLast, String newState, long newStateRevision, long newProducerVersion,
                       long newLastTimestamp, byte[] newAttributes, long now, List<SegmentRef> added) {
    List<SegmentRef> kept = new ArrayList<>(segments.size() + added.size());
    for (SegmentRef segment : segments) {
      if (segment.lastSequence() >= newFirst) {
        kept.add(segment);
      }
    }
    kept.addAll(added);
    return new Manifest(subject, newFirst, newLast, newState, newStateRevision, newProducerVersion, newLastTimestamp,
        newAttributes, now, kept);
  }

  /**
   * The same checkpoint with {@code run}, adjacent segments this manifest names, replaced by
   * {@code merged}, which holds their messages (those below {@code firstSequence} possibly dropped).
   */
  public Manifest replacing(List<SegmentRef> run, SegmentRef merged) {
    int start = segments.indexOf(run.get(0));
    if (start < 0 || start + run.size() > segments.size() || !segments.subList(start, start + run.size()).equals(run)) {
      throw new IllegalArgumentException("not adjacent segments of the manifest: " + run);
    }
    List<SegmentRef> replaced = new ArrayList<>(segments.size() - run.size() + 1);
    replaced.addAll(segments.subList(0, start));
    replaced.add(merged);
    replaced.addAll(segments.subList(start + run.size(), segments.size()));
    return withSegments(replaced);
  }

  private Manifest withSegments(List<SegmentRef> newSegments) {
    return new Manifest(subject, firstSequence, lastSequence, state, stateRevision, producerVersion, lastTimestamp,
        attributes, checkpointedAt, newSegments);
  }

  /** True if this manifest names the segment key. */
  public boolean names(String key) {
    for (SegmentRef segment : segments) {
      if (segment.key().equals(key)) {
        return true;
      }
    }
    return false;
  }

  /** Segments of this manifest that {@code next} no longer names. */
  public List<String> droppedIn(Manifest next) {
    List<String> dropped = new ArrayList<>();
    for (SegmentRef segment : segments) {
      if (!next.segments().contains(segment)) {
        dropped.add(segment.key());
      }
    }
    return dropped;
  }

  public byte[] encode() {
    JsonArray list = new JsonArray();
    segments.forEach(segment -> list.add(segment.toJson()));
    return new JsonObject().put("format", FORMAT).put("subject", subject).put("firstSequence", firstSequence)
        .put("lastSequence", lastSequence).put("state", state).put("stateRevision", stateRevision)
        .put("producerVersion", producerVersion)
        .put("lastTimestamp", lastTimestamp).put("attributes", Base64.getEncoder().encodeToString(attributes))
        .put("checkpointedAt", checkpointedAt)
        .put("segments", list).encode().getBytes(StandardCharsets.UTF_8);
  }

  public static Manifest decode(byte[] encoded) {
    JsonObject json = new JsonObject(new String(encoded, StandardCharsets.UTF_8));
    int format = json.getInteger("format", 0);
    if (format != FORMAT) {
      throw new IllegalArgumentException("unknown manifest format " + format);
    }
    List<SegmentRef> segments = new ArrayList<>();
    for (Object entry : json.getJsonArray("segments", new JsonArray())) {
      segments.add(SegmentRef.fromJson((JsonObject) entry));
    }
    Object stateValue = json.getValue("state", EMPTY_STATE);
    String state = stateValue instanceof JsonObject object ? object.encode() : (String) stateValue;
    Long stateRevision = json.getLong("stateRevision");
    return new Manifest(json.getString("subject"), json.getLong("firstSequence"), json.getLong("lastSequence"), state,
        stateRevision != null ? stateRevision : SubjectRecord.legacyRevision(state.getBytes(StandardCharsets.UTF_8)),
        json.getLong("producerVersion", 0L), json.getLong("lastTimestamp", 0L),
        Base64.getDecoder().decode(json.getString("attributes", "")), json.getLong("checkpointedAt", 0L), segments);
  }
}
