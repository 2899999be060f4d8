package io.imagemirror.upstream;

import java.util.List;
import java.util.Optional;

/**
 * One page of {@code tags/list}.
 *
 * @param tags the tags, in the registry's order
 * @param next the {@code last} value to ask for the following page, empty on the last page
 */
public record TagPage(List<String> tags, Optional<String> next) {
    public TagPage {
        tags = List.copyOf(tags);
    }
}
