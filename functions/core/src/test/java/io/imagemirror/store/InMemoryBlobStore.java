package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.VerifyingInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link BlobStore} in memory, for unit tests of code above the ports. Behaves like the real
 * adapters (it passes {@link BlobStoreContract}): verifies while reading, stores nothing on a
 * mismatch, never rewrites, pages by digest. Thread-safe.
 */
public final class InMemoryBlobStore implements BlobStore {

    private record Entry(byte[] bytes, Instant lastModified) {
    }

    private final ConcurrentSkipListMap<Digest, Entry> objects = new ConcurrentSkipListMap<>();
    private final Clock clock;

    public InMemoryBlobStore() {
        this(Clock.systemUTC());
    }

    public InMemoryBlobStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Optional<Info> stat(Digest digest) {
        Entry e = objects.get(digest);
        return e == null ? Optional.empty() : Optional.of(new Info(digest, e.bytes.length, e.lastModified));
    }

    @Override
    public PutResult put(Digest digest, long size, InputStream in) throws IOException {
        if (objects.containsKey(digest)) {
            return PutResult.ALREADY_EXISTS;
        }
        VerifyingInputStream verifying = new VerifyingInputStream(in, digest, size);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = verifying.read(chunk, 0, chunk.length)) >= 0) {
            buf.write(chunk, 0, n);
        }
        Entry previous = objects.putIfAbsent(digest, new Entry(buf.toByteArray(), Timestamps.truncate(clock.instant())));
        return previous == null ? PutResult.STORED : PutResult.ALREADY_EXISTS;
    }

    @Override
    public Optional<Content> open(Digest digest, ByteRange range) {
        Entry e = objects.get(digest);
        if (e == null) {
            return Optional.empty();
        }
        long size = e.bytes.length;
        if (!range.satisfiableWithin(size)) {
            throw new RangeNotSatisfiableException(range, size);
        }
        long length = range.lengthWithin(size);
        return Optional.of(new Content(new ByteArrayInputStream(e.bytes, (int) range.first(), (int) length),
                range.first(), length, size));
    }

    @Override
    public void delete(Digest digest) {
        objects.remove(digest);
    }

    @Override
    public Page<Info> list(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        Map<Digest, Entry> tail = pageToken == null ? objects : objects.tailMap(Digest.parse(pageToken), false);
        List<Info> items = new ArrayList<>();
        for (Map.Entry<Digest, Entry> e : tail.entrySet()) {
            if (items.size() == max) {
                return new Page<>(items, items.get(items.size() - 1).digest().toString());
            }
            items.add(new Info(e.getKey(), e.getValue().bytes.length, e.getValue().lastModified));
        }
        return Page.last(items);
    }

    @Override
    public Optional<URI> presignGet(Digest digest, Duration ttl) {
        return Optional.empty();
    }

    /** How many objects are stored (a test convenience). */
    public int size() {
        return objects.size();
    }
}
