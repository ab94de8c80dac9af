package io.edgetunnel.ingress.security.secrets;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable set of accepted tokens, held as SHA-256 digests only. Matching compares the digest of
 * the presented token with every entry using {@link MessageDigest#isEqual}, without stopping at the
 * first hit, so neither the content, the length nor the position of a token leaks through timing.
 */
public final class AcceptedTokens {

    /** @param stage {@code AWSCURRENT}, {@code AWSPREVIOUS}, {@code file} or {@code property} */
    public record Match(String name, String stage) {
        public Match {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(stage, "stage");
        }
    }

    private record Entry(String name, String stage, byte[] digest) {}

    private final List<Entry> entries;

    private AcceptedTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static AcceptedTokens none() {
        return new AcceptedTokens(List.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    public Optional<Match> match(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] digest = digest(presented);
        Match match = null;
        for (Entry entry : entries) {
            boolean equal = MessageDigest.isEqual(entry.digest(), digest);
            if (equal && match == null) {
                match = new Match(entry.name(), entry.stage());
            }
        }
        return Optional.ofNullable(match);
    }

    /** Same tokens under the same names and stages (digests compared), regardless of order. */
    boolean sameAs(AcceptedTokens other) {
        if (other.entries.size() != entries.size()) {
            return false;
        }
        for (Entry e : entries) {
            boolean found = false;
            for (Entry o : other.entries) {
                found |= o.name().equals(e.name()) && o.stage().equals(e.stage())
                        && MessageDigest.isEqual(o.digest(), e.digest());
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    static byte[] digest(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "AcceptedTokens[" + entries.size() + " entries]";
    }

    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();

        private Builder() {}

        public Builder add(String name, String stage, String token) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(stage, "stage");
            if (token != null && !token.isEmpty()) {
                entries.add(new Entry(name, stage, digest(token)));
            }
            return this;
        }

        public AcceptedTokens build() {
            return new AcceptedTokens(entries);
        }
    }
}
