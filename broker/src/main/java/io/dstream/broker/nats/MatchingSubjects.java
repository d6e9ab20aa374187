package io.dstream.broker.nats;

import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.pattern.TokenPattern;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The subjects of the local store that a pattern matches, with their applied records, read page
 * by page from the store's sorted subject listing between the pattern's literal prefix and the
 * first name past it. The broker's own subjects ({@code $...}) never match. Blocking: run it on a
 * worker.
 */
final class MatchingSubjects {

  private static final int PAGE = 1000;

  private MatchingSubjects() {
  }

  /** Up to {@code limit} matching subjects in name order (so one more than a bound tells it was passed). */
  static List<Map.Entry<String, SubjectRecord>> list(MessageStore store, String pattern, int limit) {
    TokenPattern matcher = TokenPattern.subjects(pattern);
    String prefix = SubjectPatterns.literalPrefix(pattern);
    List<Map.Entry<String, SubjectRecord>> matching = new ArrayList<>();
    String after = prefix.isEmpty() ? null : prefix;
    while (matching.size() < limit) {
      List<Map.Entry<String, SubjectRecord>> page = store.subjects(after, PAGE);
      for (Map.Entry<String, SubjectRecord> entry : page) {
        String subject = entry.getKey();
        if (!subject.startsWith(prefix)) {
          return matching;
        }
        if (!subject.startsWith("$") && matcher.matches(subject)) {
          matching.add(entry);
          if (matching.size() == limit) {
            return matching;
          }
        }
      }
      if (page.size() < PAGE) {
        return matching;
      }
      after = page.get(page.size() - 1).getKey();
    }
    return matching;
  }
}
