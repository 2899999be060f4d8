package io.imagemirror.sync;

/**
 * A sync rule that cannot be stored: {@link #field()} names what is wrong (e.g.
 * {@code tags.include[0]}), the message says why. Nothing is stored when one is thrown (CLI exit 2,
 * HTTP 400).
 */
public final class InvalidRuleException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String field;

    public InvalidRuleException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    /** The field at fault, as a path in the rule ({@code schedule}, {@code tags.semver}). */
    public String field() {
        return field;
    }

    /** The same fault, placed under {@code prefix} (e.g. the rule's place in a file). */
    public InvalidRuleException under(String prefix) {
        InvalidRuleException e = new InvalidRuleException(prefix + "." + field, getMessage().substring(field.length() + 2));
        e.initCause(this);
        return e;
    }
}
