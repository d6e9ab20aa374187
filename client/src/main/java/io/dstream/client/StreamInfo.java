package io.dstream.client;

/**
 * A snapshot of a subject's stream, as answered by the {@code getStreamInfo} command.
 *
 * @param firstSequence the sequence of the oldest retained message; above {@code lastSequence} when none is retained
 * @param lastSequence the sequence of the newest acknowledged message (0 if none); deletions do not lower it
 * @param messages the number of retained messages
 * @param bytes the stored size of the retained messages
 * @param subscribers the number of connections currently subscribed to the subject
 */
public record StreamInfo(long firstSequence, long lastSequence, long messages, long bytes, int subscribers) {
}
