package io.dstream.broker.store;

import java.util.List;

/** The writes of one subject in one group commit, applied in order by {@link MessageStore#apply}. */
public record SubjectWrites(String subject, List<StoreWrite> writes) {
}
