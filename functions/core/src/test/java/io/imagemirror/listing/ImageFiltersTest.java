package io.imagemirror.listing;

import static io.imagemirror.listing.Rows.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageFiltersTest {

    private final ImageRow web1 = row("app-web", "1", "web1", 1, 10, Map.of("team", "a", "tier", "front"));
    private final ImageRow web12 = row("app-web", "12", "web12", 2, 10, Map.of("team", "b"));
    private final ImageRow db1 = row("app-db", "1", "db1", 3, 10, Map.of());
    private final ImageRow old = row("app-web", null, "old", 0, 10, Map.of("team", "a"));
    private final List<ImageRow> all = List.of(old, web1, web12, db1);

    private List<ImageRow> select(String... filters) {
        ImageFilters f = ImageFilters.parse(List.of(filters)).resolve(ref -> switch (ref) {
            case "app-web:12" -> Optional.of(web12.mirroredAt());
            case "app-web:1" -> Optional.of(web1.mirroredAt());
            default -> Optional.<Instant>empty();
        });
        return all.stream().filter(f::matches).toList();
    }

    @Test
    void danglingSelectsUntaggedOrTagged() {
        assertThat(select("dangling=true")).containsExactly(old);
        assertThat(select("dangling=false")).containsExactly(web1, web12, db1);
        assertThat(select("dangling=true", "dangling=1")).containsExactly(old);
    }

    @Test
    void beforeAndSinceFollowMirrorOrderAndBothMustHold() {
        assertThat(select("before=app-web:12")).containsExactly(old, web1);
        assertThat(select("since=app-web:1")).containsExactly(web12, db1);
        assertThat(select("since=app-web:1", "before=app-web:12")).isEmpty();
        assertThat(select("before=app-web:12", "before=app-web:1")).containsExactly(old);
    }

    @Test
    void labelsMatchByKeyOrKeyAndValueAndAllMustHold() {
        assertThat(select("label=team")).containsExactly(old, web1, web12);
        assertThat(select("label=team=a")).containsExactly(old, web1);
        assertThat(select("label=team=a", "label=tier=front")).containsExactly(web1);
        assertThat(select("label=team=")).isEmpty();
    }

    @Test
    void referencePatternsAreAlternativesAndGlobLikeDocker() {
        assertThat(select("reference=app-*:1")).containsExactly(web1, db1);
        assertThat(select("reference=app-web")).containsExactly(web1, web12);
        assertThat(select("reference=app-db:*", "reference=*:12")).containsExactly(web12, db1);
        assertThat(select("reference=app-*:1", "dangling=false", "label=team")).containsExactly(web1);
    }

    @Test
    void badFiltersAreRefusedNamingTheFilter() {
        assertThatThrownBy(() -> select("colour=red")).isInstanceOf(InvalidFilterException.class)
                .hasMessageContaining("'colour'");
        assertThatThrownBy(() -> select("dangling=maybe")).hasMessageContaining("dangling=maybe");
        assertThatThrownBy(() -> select("dangling=true", "dangling=false")).hasMessageContaining("both");
        assertThatThrownBy(() -> select("reference=app[")).hasMessageContaining("reference");
        assertThatThrownBy(() -> select("label=")).hasMessageContaining("label");
        assertThatThrownBy(() -> select("nonsense")).hasMessageContaining("name=value");
        assertThatThrownBy(() -> select("before=nope:1")).hasMessageContaining("no such image: nope:1");
    }

    @Test
    void unresolvedBoundsAreAProgrammingError() {
        ImageFilters f = ImageFilters.parse(List.of("before=app-web:1"));
        assertThatThrownBy(() -> f.matches(web1)).isInstanceOf(IllegalStateException.class);
        assertThat(ImageFilters.none().matches(old)).isTrue();
    }
}
