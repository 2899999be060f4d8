package io.imagemirror.store;

import java.util.Objects;

/** A named sync rule; its configuration is kept as the raw JSON the sync module defines. */
public record SyncRule(String name, String config, boolean enabled) {
    public SyncRule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        if (name.isEmpty() || name.length() > 200) {
            throw new IllegalArgumentException("rule name must be 1-200 characters");
        }
    }
}
