package io.imagemirror.store;

import java.util.List;
import java.util.function.Function;

/**
 * One page of a listing. {@code nextToken} is {@code null} on the last page; otherwise it is an
 * opaque string to pass back as {@code pageToken} to the same call on the same store. A page holds
 * at most the {@code limit} asked for and may hold fewer (even none) while more follow: callers
 * loop until {@code nextToken} is {@code null}, never until a short page.
 */
public record Page<T>(List<T> items, String nextToken) {

    public Page {
        items = List.copyOf(items);
    }

    public static <T> Page<T> last(List<T> items) {
        return new Page<>(items, null);
    }

    public <R> Page<R> map(Function<? super T, ? extends R> f) {
        return new Page<>(items.stream().<R>map(f).toList(), nextToken);
    }

    /** Checks a caller's {@code limit}: at least 1; stores cap it at {@link #MAX_LIMIT}. */
    public static int checkLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        return Math.min(limit, MAX_LIMIT);
    }

    /** The largest page any store returns, whatever was asked for (DynamoDB's page is 1 MB anyway). */
    public static final int MAX_LIMIT = 1000;

    @Override
    public String toString() {
        return "Page[" + items.size() + " items" + (nextToken == null ? "" : ", more") + "]";
    }

}
