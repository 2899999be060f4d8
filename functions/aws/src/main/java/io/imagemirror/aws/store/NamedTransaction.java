package io.imagemirror.aws.store;

import io.imagemirror.store.StoreException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * One {@code TransactWriteItems} whose items carry names ({@code "tag"}, {@code "child sha256:..."}),
 * so that a cancellation is read as "which named conditions failed" rather than by item position.
 * A cancellation without a failed condition (a conflicting transaction, throttling) is retried
 * with jittered backoff; it changed nothing, so retrying is safe.
 */
final class NamedTransaction {

    /** DynamoDB's limit of items in one transaction. */
    static final int MAX_ITEMS = 100;
    private static final int MAX_ATTEMPTS = 25;

    private final String what;
    private final List<String> names = new ArrayList<>();
    private final List<TransactWriteItem> items = new ArrayList<>();

    /** @param what names the operation in errors, e.g. {@code "set tag latest"} */
    NamedTransaction(String what) {
        this.what = what;
    }

    NamedTransaction add(String name, TransactWriteItem item) {
        if (names.contains(name)) {
            throw new IllegalArgumentException(what + ": two items named " + name);
        }
        names.add(name);
        items.add(item);
        return this;
    }

    int size() {
        return items.size();
    }

    /**
     * Runs the transaction.
     *
     * @param translate turns a failure of the call into a domain exception
     * @return the names of the items whose condition failed (nothing was written), or an empty set
     *     when it committed
     */
    Set<String> run(DynamoDbClient dynamo, BiFunction<String, SdkException, StoreException> translate) {
        if (items.size() > MAX_ITEMS) {
            throw new StoreException(what + ": " + items.size() + " items, more than DynamoDB's " + MAX_ITEMS
                    + " in one transaction", null, false);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                dynamo.transactWriteItems(b -> b.transactItems(items));
                return Set.of();
            } catch (TransactionCanceledException e) {
                Set<String> failed = failedConditions(e);
                if (!failed.isEmpty()) {
                    return failed;
                }
                if (attempt >= MAX_ATTEMPTS) {
                    throw new StoreException(what + ": transaction kept conflicting", e, true);
                }
                backoff(attempt);
            } catch (SdkException e) {
                throw translate.apply(what, e);
            }
        }
    }

    private Set<String> failedConditions(TransactionCanceledException e) {
        Set<String> failed = new LinkedHashSet<>();
        List<CancellationReason> reasons = e.cancellationReasons();
        for (int i = 0; i < reasons.size() && i < names.size(); i++) {
            if ("ConditionalCheckFailed".equals(reasons.get(i).code())) {
                failed.add(names.get(i));
            }
        }
        return failed;
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L * Math.min(attempt, 10)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted", e, true);
        }
    }
}
