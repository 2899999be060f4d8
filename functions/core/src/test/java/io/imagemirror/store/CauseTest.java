package io.imagemirror.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CauseTest {

    @Test
    void everyCauseReadsBackFromTheTextHistoryKeeps() {
        List<Cause> all = List.of(Cause.API, Cause.CLI, Cause.PULL_THROUGH, Cause.SWEEP, Cause.RM, Cause.MIRROR,
                Cause.syncRule("alpine-3"));
        assertThat(all).extracting(Cause::value).containsExactly("api", "cli", "pull-through", "sweep", "rm",
                "mirror", "sync rule alpine-3");
        for (Cause c : all) {
            assertThat(Cause.parse(c.value())).isEqualTo(c).hasToString(c.value());
        }
        assertThat(Cause.parse("sync rule nightly").syncRule()).hasValue("nightly");
        assertThat(Cause.API.syncRule()).isEmpty();
    }

    @Test
    void unknownTextAndBadRuleNamesAreRefused() {
        for (String bad : new String[] {"", "API", "mirror ", "sync rule ", "sync rule Nightly", "sync rule a b",
                "sync rule " + "a".repeat(64), "because"}) {
            assertThatThrownBy(() -> Cause.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Cause.syncRule("a/b")).hasMessageContaining("a/b");
    }
}
