package io.dstream.broker.nats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Every core subscription of every NATS connection, by subject pattern (nats-server's sublist): a
 * trie of tokens with {@code *} and {@code >} branches, and a cache of match results per subject.
 *
 * <p>Threading: matching runs on any thread (the stream actors deliver from their contexts, the
 * connections route ephemeral messages from theirs) under the trie's read lock; subscribing and
 * unsubscribing take its write lock and clear the cache, since one subscription changes the answer
 * for many subjects.
 * Subscriptions change seldom, matches run per message, so the cache answers most of them without a lock.
 */
final class SubjectIndex {

  /** Most subjects whose match result is cached; past it the cache starts again (as nats-server's does). */
  private static final int CACHE_SUBJECTS = 4096;
  /** Reply subjects are new for every request: caching them would only push the others out. */
  private static final String INBOX_PREFIX = "_INBOX.";

  /** The subscriptions a subject matches: each plain one gets the message, each queue group one member. */
  record Match(List<Subscription> plain, List<List<Subscription>> queues) {
    static final Match NONE = new Match(List.of(), List.of());

    boolean isEmpty() {
      return plain.isEmpty() && queues.isEmpty();
    }

    /** The queue groups with a member here. */
    Set<String> groups() {
      if (queues.isEmpty()) {
        return Set.of();
      }
      Set<String> names = new HashSet<>();
      queues.forEach(members -> names.add(members.get(0).queue()));
      return names;
    }
  }

  private final TokenTrie<Subscription> trie = new TokenTrie<>();
  private final Map<String, Match> cache = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile int count;
  /** The distinct patterns of plain subscriptions, with how many subscriptions each (under the lock). */
  private final Map<String, Integer> plainPatterns = new HashMap<>();
  /** The distinct patterns of queue subscriptions with their group, and how many subscriptions each (under the lock). */
  private final Map<Interest, Integer> queueInterests = new HashMap<>();
  /** Counts changes, so a holder of a match can tell whether it is still the answer. */
  private volatile long generation;

  /** Adds {@code subscription} under its pattern. */
  void add(Subscription subscription) {
    lock.writeLock().lock();
    try {
      addLocked(subscription);
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void addLocked(Subscription subscription) {
    trie.add(subscription.tokens(), subscription);
    if (subscription.queue() == null) {
      plainPatterns.merge(subscription.subject, 1, Integer::sum);
    } else {
      queueInterests.merge(new Interest(subscription.subject, subscription.queue()), 1, Integer::sum);
    }
    count++;
    generation++;
    cache.clear();
  }

  /** Removes {@code subscription}; does nothing if it is not there. */
  void remove(Subscription subscription) {
    lock.writeLock().lock();
    try {
      if (trie.remove(subscription.tokens(), subscription)) {
        if (subscription.queue() == null) {
          plainPatterns.computeIfPresent(subscription.subject, (pattern, n) -> n == 1 ? null : n - 1);
        } else {
          queueInterests.computeIfPresent(new Interest(subscription.subject, subscription.queue()),
              (interest, n) -> n == 1 ? null : n - 1);
        }
        count--;
        generation++;
        cache.clear();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** A pattern some queue subscription has, with its group. */
  record Interest(String pattern, String queue) {
  }

  /** The distinct patterns of plain subscriptions if there are at most {@code limit}; null if there are more. */
  List<String> plainPatterns(int limit) {
    lock.readLock().lock();
    try {
      return plainPatterns.size() > limit ? null : List.copyOf(plainPatterns.keySet());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The distinct patterns and groups of queue subscriptions if there are at most {@code limit}; null if there are more. */
  List<Interest> queueInterests(int limit) {
    lock.readLock().lock();
    try {
      return queueInterests.size() > limit ? null : List.copyOf(queueInterests.keySet());
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Changes so far: a match taken at one generation is the answer until the next. */
  long generation() {
    return generation;
  }

  /** The subscriptions {@code subject} (a literal subject) matches. */
  Match match(String subject) {
    if (count == 0) {
      return Match.NONE;
    }
    Match cached = cache.get(subject);
    if (cached != null) {
      return cached;
    }
    // Computed and cached under the read lock, so a change (which clears the cache under the write
    // lock) can never be followed by a result computed before it.
    Match computed;
    lock.readLock().lock();
    try {
      List<Subscription> found = new ArrayList<>();
      trie.collect(tokens(subject), found);
      computed = group(found);
      if (!subject.startsWith(INBOX_PREFIX)) {
        if (cache.size() >= CACHE_SUBJECTS) {
          cache.clear();
        }
        cache.put(subject, computed);
      }
    } finally {
      lock.readLock().unlock();
    }
    return computed;
  }

  /** The dot-separated tokens of a subject or pattern. */
  static String[] tokens(String subject) {
    int count = 1;
    for (int i = 0; i < subject.length(); i++) {
      if (subject.charAt(i) == '.') {
        count++;
      }
    }
    String[] tokens = new String[count];
    int start = 0;
    for (int t = 0; t < count; t++) {
      int end = subject.indexOf('.', start);
      if (end < 0) {
        end = subject.length();
      }
      tokens[t] = subject.substring(start, end);
      start = end + 1;
    }
    return tokens;
  }

  /**
   * The match shared by every subject {@code prefix.<one token>}, or null when it depends on that
   * token (a subscription names it, or something below it, literally). A publisher's replies are
   * {@code _INBOX.<id>.<n>}, a new subject for every request, all answered by this one match.
   */
  Match familyMatch(String prefix) {
    if (count == 0) {
      return Match.NONE;
    }
    lock.readLock().lock();
    try {
      List<Subscription> found = new ArrayList<>();
      return trie.collectFamily(tokens(prefix), found) ? group(found) : null;
    } finally {
      lock.readLock().unlock();
    }
  }

  private static Match group(List<Subscription> found) {
    if (found.isEmpty()) {
      return Match.NONE;
    }
    List<Subscription> plain = new ArrayList<>();
    Map<String, List<Subscription>> queues = new HashMap<>();
    for (Subscription subscription : found) {
      if (subscription.queue() == null) {
        plain.add(subscription);
      } else {
        queues.computeIfAbsent(subscription.queue(), q -> new ArrayList<>()).add(subscription);
      }
    }
    List<List<Subscription>> groups = new ArrayList<>();
    queues.values().forEach(members -> groups.add(List.copyOf(members)));
    return new Match(List.copyOf(plain), List.copyOf(groups));
  }
}
