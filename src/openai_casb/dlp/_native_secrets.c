/* Native twins of the Credentials and Secrets validators and judges (see _exactnative.h).
 *
 * Every detector built by `_secret` (detectors/secrets.py) validates a value the same way:
 * take its variable part (the SecretRule's Body), accept a published example, else refuse a
 * placeholder, a variable part of too little Shannon entropy, or a value failing the rule's
 * Check; its judge says `sample` of a published example. The parameters (bodies, thresholds,
 * checks, examples) come from secrets.native_tables() through secrets_configure(); only the
 * list of keys (NativeDetector.key) is written here. The judges of aws_secret_keyed and
 * aws_secret_near_id also read the text around the value: a `secret_access_key` label on its
 * line, a credible key id within secrets.AWS_ID_WINDOW, a base64 block around it (the regexes
 * of secrets.py as loops; tests/dlp/test_native_secrets.py pins them). pem_private_key's
 * classify (secrets._pem_ok: its PEM lines, body, entropy, OpenSSH magic, the DER of strict
 * base64) and jwt's (validators.jwt_ok) and judge (secrets._jwt_judge) are here too; their
 * json.loads of the header is read for a simple subset (one object, keys and strings without
 * escapes, numbers, true, false, null, UTF-8): any other header returns NATIVE_ASK_PYTHON and
 * the core asks Python.
 */
#include "_exactnative.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECE 64        /* a separator, end, removed marker, the example mark */
#define MAX_EXAMPLES 8      /* published examples per key */
#define MAX_EXAMPLE 512     /* characters of one published example */
#define BODY_ON_STACK 1024  /* a variable part longer than this (never from the patterns) is malloc'd */

enum { BODY_SLICE, BODY_AFTER, BODY_FIELD };
enum { CHECK_NONE, CHECK_MIXED_CASE, CHECK_BASE62_CRC, CHECK_BASE64_KEY };

typedef struct {
    Py_ssize_t length;
    unsigned char text[MAX_PIECE];
} Piece;

typedef struct {
    int ready;
    double entropy;
    int body;
    Py_ssize_t start;
    Piece separator;
    Py_ssize_t count;
    Piece end;
    Piece remove;
    int check;
    Py_ssize_t size;
    int examples;
    Py_ssize_t example_length[MAX_EXAMPLES];
    unsigned char example[MAX_EXAMPLES][MAX_EXAMPLE];
} Rule;

enum {
    AWS_KEY_ID, AWS_SECRET_LABELLED, AWS_SECRET_PAIRED, AWS_SECRET_KEYED, AWS_SECRET_NEAR_ID, GCP_API_KEY,
    AZURE_STORAGE_KEY, AZURE_CONNECTION_STRING, GITHUB_TOKEN, GITHUB_FINE_GRAINED, OPENAI_KEY, OPENAI_LEGACY_KEY,
    ANTHROPIC_KEY, SLACK_TOKEN, SLACK_WEBHOOK, STRIPE_KEY, STRIPE_TEST_KEY, NPM_TOKEN, PYPI_TOKEN, RULE_COUNT
};

static const char *const RULE_KEYS[RULE_COUNT] = {
    "aws_key_id", "aws_secret_labelled", "aws_secret_paired", "aws_secret_keyed", "aws_secret_near_id",
    "gcp_api_key", "azure_storage_key", "azure_connection_string", "github_token", "github_fine_grained",
    "openai_key", "openai_legacy_key", "anthropic_key", "slack_token", "slack_webhook", "stripe_key",
    "stripe_test_key", "npm_token", "pypi_token",
};

static Rule rules[RULE_COUNT];
static Rule staged[RULE_COUNT]; /* configure parses here, then copies: a bad table leaves the old one */
static Piece example_mark;
static unsigned char base62[62];
static uint32_t crc_table[256];
static Py_ssize_t aws_id_window; /* secrets.AWS_ID_WINDOW */

/* --- the measures ---------------------------------------------------------------------------- */

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c; }

/* The first occurrence of `pattern` in text[from:length] (str.find), or -1. */
static Py_ssize_t find(const unsigned char *text, Py_ssize_t length, Py_ssize_t from, const unsigned char *pattern,
                       Py_ssize_t size) {
    for (Py_ssize_t i = from; i + size <= length; i++)
        if (memcmp(text + i, pattern, (size_t)size) == 0) return i;
    return -1;
}

/* The last occurrence of `pattern` in text (str.rfind), or -1. */
static Py_ssize_t rfind(const unsigned char *text, Py_ssize_t length, const unsigned char *pattern, Py_ssize_t size) {
    for (Py_ssize_t i = length - size; i >= 0; i--)
        if (memcmp(text + i, pattern, (size_t)size) == 0) return i;
    return -1;
}

/* The span of the variable part, before `remove` is deleted from it (secrets.Body.__call__). */
static void body_span(const Rule *r, const unsigned char *value, Py_ssize_t length, Py_ssize_t *from,
                      Py_ssize_t *to) {
    *from = 0;
    *to = length;
    if (r->body == BODY_SLICE) {
        *from = r->start < length ? r->start : length;
    } else if (r->body == BODY_AFTER && r->count == 0) { /* value.rsplit(separator, 1)[-1] */
        Py_ssize_t at = rfind(value, length, r->separator.text, r->separator.length);
        if (at >= 0) *from = at + r->separator.length;
    } else if (r->body == BODY_AFTER) { /* value.split(separator, count)[-1] */
        for (Py_ssize_t i = 0; i < r->count; i++) {
            Py_ssize_t at = find(value, length, *from, r->separator.text, r->separator.length);
            if (at < 0) break;
            *from = at + r->separator.length;
        }
    } else { /* value.split(separator, 1)[1].split(end, 1)[0] if separator in value else "" */
        Py_ssize_t at = find(value, length, 0, r->separator.text, r->separator.length);
        if (at < 0) {
            *to = 0;
            return;
        }
        *from = at + r->separator.length;
        Py_ssize_t end = find(value, length, *from, r->end.text, r->end.length);
        if (end >= 0) *to = end;
    }
}

/* text.replace(piece, "") into out (as long as text at least); returns the new length. */
static Py_ssize_t strip(const unsigned char *text, Py_ssize_t length, const Piece *piece, unsigned char *out) {
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < length;) {
        if (i + piece->length <= length && memcmp(text + i, piece->text, (size_t)piece->length) == 0) {
            i += piece->length;
        } else {
            out[size++] = text[i++];
        }
    }
    return size;
}

/* examples.is_placeholder: `(.)\1{5}|(?i:your.{0,40}here)`, where `.` is anything but "\n". */
static int is_placeholder(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t run = 1;
    for (Py_ssize_t i = 1; i < n; i++) {
        if (s[i] == s[i - 1] && s[i] != '\n') {
            if (++run >= 6) return 1;
        } else {
            run = 1;
        }
    }
    static const unsigned char your[] = "your", here[] = "here";
    for (Py_ssize_t i = 0; i + 8 <= n; i++) {
        int found = 1;
        for (int k = 0; k < 4 && found; k++) found = lower(s[i + k]) == your[k];
        if (!found) continue;
        for (Py_ssize_t j = i + 4; j <= i + 44 && j + 4 <= n; j++) {
            if (j > i + 4 && s[j - 1] == '\n') break; /* the gap is `.{0,40}` */
            int match = 1;
            for (int k = 0; k < 4 && match; k++) match = lower(s[j + k]) == here[k];
            if (match) return 1;
        }
    }
    return 0;
}

/* validators.shannon_entropy, term by term as Python computes it: `-sum(c / size *
 * math.log2(c / size) for c in Counter(value).values())`, the counts in order of first
 * occurrence, summed as the built-in sum adds floats (plainly up to 3.11, Neumaier's
 * compensated sum from 3.12). */
static double shannon_entropy(const unsigned char *s, Py_ssize_t n) {
    if (n == 0) return 0.0;
    Py_ssize_t counts[256] = {0};
    unsigned char order[256];
    int kinds = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (counts[s[i]]++ == 0) order[kinds++] = s[i];
    double size = (double)n, total = 0.0;
#if PY_VERSION_HEX >= 0x030C0000
    double compensation = 0.0;
#endif
    for (int k = 0; k < kinds; k++) {
        double p = (double)counts[order[k]] / size;
        double term = p * log2(p);
#if PY_VERSION_HEX >= 0x030C0000
        double t = total + term;
        if (fabs(total) >= fabs(term))
            compensation += (total - t) + term;
        else
            compensation += (term - t) + total;
        total = t;
#else
        total += term;
#endif
    }
#if PY_VERSION_HEX >= 0x030C0000
    if (compensation != 0.0 && isfinite(compensation)) total += compensation;
#endif
    return -total;
}

static int mixed_case(const unsigned char *s, Py_ssize_t n) {
    int upper = 0, lower_case = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'Z';
        lower_case |= s[i] >= 'a' && s[i] <= 'z';
    }
    return upper && lower_case;
}

/* validators.base62_crc_ok: the last 6 characters are zlib.crc32 of those between the prefix
 * and them, in base 62, left-padded with "0". */
static int base62_crc_ok(const unsigned char *token, Py_ssize_t n, Py_ssize_t prefix) {
    if (n <= prefix + 6) return 0;
    uint32_t crc = 0xFFFFFFFFu;
    for (Py_ssize_t i = prefix; i < n - 6; i++) crc = crc_table[(crc ^ token[i]) & 0xFFu] ^ (crc >> 8);
    crc ^= 0xFFFFFFFFu;
    unsigned char encoded[6];
    for (int i = 5; i >= 0; i--) {
        encoded[i] = crc ? base62[crc % 62] : '0';
        crc /= 62;
    }
    return memcmp(encoded, token + n - 6, 6) == 0;
}

static int base64_digit(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* validators.base64_key_ok: base64.b64decode(value, validate=True), i.e. binascii.a2b_base64 in
 * strict mode, succeeds with `size` bytes. */
static int base64_key_ok(const unsigned char *s, Py_ssize_t n, Py_ssize_t size) {
    int quad = 0, pads = 0, padding = 0;
    Py_ssize_t bytes = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            padding = 1;
            if (quad == 0) return 0; /* leading or excess padding */
            if (quad >= 2 && quad + ++pads >= 4) return i + 1 == n && bytes == size;
            continue;
        }
        if (base64_digit(s[i]) < 0 || padding) return 0; /* not base64, discontinuous padding */
        pads = 0;
        if (quad > 0) bytes++;
        quad = (quad + 1) % 4;
    }
    return quad == 0 && bytes == size;
}

/* examples.is_example(key, value, secret). */
static int is_example(const Rule *r, const unsigned char *value, Py_ssize_t length, const unsigned char *secret,
                      Py_ssize_t size) {
    if (find(secret, size, 0, example_mark.text, example_mark.length) >= 0) return 1;
    for (int e = 0; e < r->examples; e++) {
        Py_ssize_t n = r->example_length[e];
        if ((n == length && memcmp(r->example[e], value, (size_t)n) == 0) ||
            (n == size && memcmp(r->example[e], secret, (size_t)n) == 0))
            return 1;
    }
    return 0;
}

/* Calls `measure` with the value's variable part (secrets.SecretRule.body); -1 without memory. */
typedef int (*measure_fn)(const Rule *r, const unsigned char *value, Py_ssize_t length, const unsigned char *secret,
                          Py_ssize_t size);

static int with_secret(const Rule *r, const unsigned char *value, Py_ssize_t length, measure_fn measure) {
    Py_ssize_t from, to;
    body_span(r, value, length, &from, &to);
    if (r->remove.length == 0) return measure(r, value, length, value + from, to - from);
    unsigned char stack[BODY_ON_STACK], *heap = NULL, *out = stack;
    if (to - from > BODY_ON_STACK) {
        heap = malloc((size_t)(to - from));
        if (heap == NULL) return -1;
        out = heap;
    }
    int result = measure(r, value, length, out, strip(value + from, to - from, &r->remove, out));
    free(heap);
    return result;
}

/* secrets.SecretRule.valid */
static int valid(const Rule *r, const unsigned char *value, Py_ssize_t length, const unsigned char *secret,
                 Py_ssize_t size) {
    if (is_example(r, value, length, secret, size)) return 1;
    if (is_placeholder(secret, size) || !(shannon_entropy(secret, size) >= r->entropy)) return 0;
    switch (r->check) {
    case CHECK_MIXED_CASE: return mixed_case(value, length);
    case CHECK_BASE62_CRC: return base62_crc_ok(value, length, r->size);
    case CHECK_BASE64_KEY: return base64_key_ok(secret, size, r->size);
    default: return 1;
    }
}

static int classify(const Rule *r, const unsigned char *value, Py_ssize_t length) {
    if (!r->ready) return -1;
    return with_secret(r, value, length, valid) == 1 ? 0 : -1;
}

/* The judge of `_secret` without a context: a published example is a sample. */
static int judge(const Rule *r, const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (!r->ready || start < 0 || end < start || end > length) return FORM_NONE;
    return with_secret(r, text + start, end - start, is_example) == 1 ? FORM_SAMPLE : FORM_NONE;
}

/* --- the aws_secret contexts ------------------------------------------------------------------ */

#define AWS_ID_LENGTH 20 /* (?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16} */

static int alnum(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* A match of secrets._ID_IN_TEXT at i in text[:limit] (its look-behind sees the whole text). */
static int id_at(const unsigned char *text, Py_ssize_t limit, Py_ssize_t i) {
    if (i + AWS_ID_LENGTH > limit || (i > 0 && alnum(text[i - 1])) || text[i] != 'A') return 0;
    const unsigned char *p = text + i + 1;
    if (!((p[0] == 'K' && p[1] == 'I' && p[2] == 'A') || (p[0] == 'S' && p[1] == 'I' && p[2] == 'A') ||
          (p[0] == 'B' && p[1] == 'I' && p[2] == 'A') || (p[0] == 'C' && p[1] == 'C' && p[2] == 'A')))
        return 0;
    for (Py_ssize_t k = i + 4; k < i + AWS_ID_LENGTH; k++)
        if (!((text[k] >= 'A' && text[k] <= 'Z') || (text[k] >= '2' && text[k] <= '7'))) return 0;
    return i + AWS_ID_LENGTH == limit || !alnum(text[i + AWS_ID_LENGTH]);
}

/* secrets._credible_id: a key id as aws_key_id counts it, a published example aside. */
static int credible(const Rule *r, const unsigned char *value, Py_ssize_t length, const unsigned char *secret,
                    Py_ssize_t size) {
    return !is_example(r, value, length, secret, size) && !is_placeholder(secret, size) &&
           shannon_entropy(secret, size) >= r->entropy;
}

/* secrets._id_near */
static int id_near(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t window = aws_id_window + AWS_ID_LENGTH;
    Py_ssize_t from = start - window > 0 ? start - window : 0;
    Py_ssize_t limit = end < length - window ? end + window : length;
    for (Py_ssize_t i = from; i + AWS_ID_LENGTH <= limit; i++)
        if (id_at(text, limit, i) && i + AWS_ID_LENGTH >= start - aws_id_window && i <= end + aws_id_window &&
            with_secret(&rules[AWS_KEY_ID], text + i, AWS_ID_LENGTH, credible) == 1)
            return 1;
    return 0;
}

static int label_word(const unsigned char *text, Py_ssize_t to, Py_ssize_t *i, const char *word) {
    for (const char *w = word; *w; w++, (*i)++)
        if (*i >= to || lower(text[*i]) != (unsigned char)*w) return 0;
    return 1;
}

static void label_separator(const unsigned char *text, Py_ssize_t to, Py_ssize_t *i) {
    if (*i < to && (text[*i] == '_' || text[*i] == '-' || text[*i] == '.' || text[*i] == ' ')) (*i)++;
}

/* secrets._ACCESS_LABEL, `(?i)secret[_\-. ]?access[_\-. ]?key`, searched in text[from:to]. */
static int access_label(const unsigned char *text, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t start = from; start < to; start++) {
        Py_ssize_t i = start;
        if (!label_word(text, to, &i, "secret")) continue;
        label_separator(text, to, &i);
        if (!label_word(text, to, &i, "access")) continue;
        label_separator(text, to, &i);
        if (label_word(text, to, &i, "key")) return 1;
    }
    return 0;
}

/* str.strip() leaves nothing of text[from:to] (the ASCII characters of str.isspace). */
static int blank(const unsigned char *text, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t i = from; i < to; i++)
        if (!(text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r') || (text[i] >= 0x1c && text[i] <= 0x1f)))
            return 0;
    return 1;
}

/* secrets._BASE64_LINE, `[ \t]*[A-Za-z0-9/+]{40,}={0,2}[ \t]*\r?`, fully matching text[from:to]. */
static int base64_line(const unsigned char *text, Py_ssize_t from, Py_ssize_t to) {
    Py_ssize_t i = from, digits = 0, pads = 0;
    while (i < to && (text[i] == ' ' || text[i] == '\t')) i++;
    for (; i < to && base64_digit(text[i]) >= 0; i++) digits++;
    for (; i < to && text[i] == '=' && pads < 2; i++) pads++;
    while (i < to && (text[i] == ' ' || text[i] == '\t')) i++;
    if (i < to && text[i] == '\r') i++;
    return digits >= 40 && i == to;
}

static Py_ssize_t find_newline(const unsigned char *text, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t i = from; i < to; i++)
        if (text[i] == '\n') return i;
    return -1;
}

static Py_ssize_t rfind_newline(const unsigned char *text, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t i = to - 1; i >= from; i--)
        if (text[i] == '\n') return i;
    return -1;
}

/* secrets._in_base64_block */
static int in_base64_block(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t line_start = rfind_newline(text, 0, start) + 1;
    Py_ssize_t line_end = find_newline(text, end, length);
    if (line_end < 0) line_end = length;
    if (!blank(text, line_start, start) || !blank(text, end, line_end)) return 0;
    if (line_start > 0) {
        Py_ssize_t previous = rfind_newline(text, 0, line_start - 1) + 1;
        if (base64_line(text, previous, line_start - 1)) return 1;
    }
    if (line_end < length) {
        Py_ssize_t following = find_newline(text, line_end + 1, length);
        if (base64_line(text, line_end + 1, following < 0 ? length : following)) return 1;
    }
    return 0;
}

/* The judge of aws_secret_keyed: secrets._keyed_context after the example test. */
static int judge_aws_secret_keyed(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (judge(&rules[AWS_SECRET_KEYED], text, length, start, end) == FORM_SAMPLE) return FORM_SAMPLE;
    if (!rules[AWS_KEY_ID].ready || start < 0 || end < start || end > length) return FORM_NONE;
    Py_ssize_t line_start = rfind_newline(text, 0, start) + 1;
    return access_label(text, line_start, start) || id_near(text, length, start, end) ? FORM_NONE : FORM_WEAK;
}

/* The judge of aws_secret_near_id: secrets._near_id_context after the example test. */
static int judge_aws_secret_near_id(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (judge(&rules[AWS_SECRET_NEAR_ID], text, length, start, end) == FORM_SAMPLE) return FORM_SAMPLE;
    if (!rules[AWS_KEY_ID].ready || start < 0 || end < start || end > length) return FORM_NONE;
    return id_near(text, length, start, end) && !in_base64_block(text, length, start, end) ? FORM_NONE : FORM_REJECT;
}

/* --- pem_private_key ---------------------------------------------------------------------------- */

#define PEM_MAX_KINDS 8
#define PEM_ON_STACK 9000 /* a body longer than this (never from the pattern: 8200) is malloc'd */

static struct {
    int ready;
    double entropy;       /* secrets._PEM_ENTROPY */
    Piece openssh_kind;   /* secrets._OPENSSH_KIND */
    Piece openssh_magic;  /* secrets._OPENSSH_MAGIC */
    int der_kinds;        /* secrets._DER_KINDS */
    Piece der_kind[PEM_MAX_KINDS];
} pem, pem_staged;

/* Per character: str.split()'s whitespace (ASCII: \t-\r, \x1c-\x1f, space), a line boundary of
 * str.splitlines (ASCII: \n \r (\r\n) \v \f \x1c \x1d \x1e), its base64 digit (strict
 * alphabet) or 0xFF; filled by secrets_configure. */
enum { CHAR_SPACE = 1, CHAR_BREAK = 2 };
static unsigned char char_class[256];
static unsigned char base64_value[256];

static void fill_char_tables(void) {
    for (int c = 0; c < 256; c++) {
        int space = c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
        int line = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e);
        char_class[c] = (unsigned char)((space ? CHAR_SPACE : 0) | (line ? CHAR_BREAK : 0));
        int digit = base64_digit((unsigned char)c);
        base64_value[c] = digit < 0 ? 0xFF : (unsigned char)digit;
    }
}

static int is_space(unsigned char c) { return char_class[c] & CHAR_SPACE; }
static int line_break(unsigned char c) { return char_class[c] & CHAR_BREAK; }

static int upper_or_space(unsigned char c) { return (c >= 'A' && c <= 'Z') || c == ' '; }

/* A match of secrets._PEM_LINE, `-----(BEGIN|END) ([A-Z ]+)-----`, at s[i]: its end (the label
 * s[*label:*label_end], *begin 1 for BEGIN), or -1. `[A-Z ]+` stops before the `-----` it needs. */
static Py_ssize_t pem_line_at(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, int *begin, Py_ssize_t *label,
                              Py_ssize_t *label_end) {
    if (n - i < 5 || memcmp(s + i, "-----", 5) != 0) return -1;
    Py_ssize_t j = i + 5;
    if (n - j >= 6 && memcmp(s + j, "BEGIN ", 6) == 0) {
        *begin = 1;
        j += 6;
    } else if (n - j >= 4 && memcmp(s + j, "END ", 4) == 0) {
        *begin = 0;
        j += 4;
    } else {
        return -1;
    }
    Py_ssize_t from = j;
    while (j < n && upper_or_space(s[j])) j++;
    if (j == from || n - j < 5 || memcmp(s + j, "-----", 5) != 0) return -1;
    *label = from;
    *label_end = j;
    return j + 5;
}

/* Appends a line (or token) of the body: its characters but whitespace, unless it holds ':'
 * (an RFC 1421 header, which sets *headers). */
static Py_ssize_t body_piece(const unsigned char *s, Py_ssize_t from, Py_ssize_t to, unsigned char *body,
                             Py_ssize_t size, int *headers) {
    if (from < to && memchr(s + from, ':', (size_t)(to - from)) != NULL) {
        *headers = 1;
        return size;
    }
    for (Py_ssize_t i = from; i < to; i++)
        if (!is_space(s[i])) body[size++] = s[i];
    return size;
}

/* secrets._pem_body into body (as long as the value at least): its length, *headers set. */
static Py_ssize_t pem_body(const unsigned char *s, Py_ssize_t n, unsigned char *body, int *headers) {
    Py_ssize_t size = 0;
    *headers = 0;
    if (memchr(s, '\n', (size_t)n) != NULL) { /* value.splitlines()[1:-1] */
        Py_ssize_t pos = 0, index = 0, previous = 0, previous_end = 0;
        while (pos < n) {
            Py_ssize_t start = pos, end = pos;
            while (end < n && !line_break(s[end])) end++;
            pos = end == n ? n : (s[end] == '\r' && end + 1 < n && s[end + 1] == '\n') ? end + 2 : end + 1;
            if (index >= 2) size = body_piece(s, previous, previous_end, body, size, headers); /* not the last */
            previous = start;
            previous_end = end;
            index++;
        }
        return size;
    }
    /* value.split("-----")[2].split(): the text between the second and the third "-----" */
    static const unsigned char dashes[] = "-----";
    Py_ssize_t first = find(s, n, 0, dashes, 5);
    Py_ssize_t second = first < 0 ? -1 : find(s, n, first + 5, dashes, 5);
    if (second < 0) return -1; /* never: two PEM lines were found */
    Py_ssize_t third = find(s, n, second + 5, dashes, 5);
    if (third < 0) third = n;
    for (Py_ssize_t i = second + 5; i < third;) {
        while (i < third && is_space(s[i])) i++;
        Py_ssize_t from = i;
        while (i < third && !is_space(s[i])) i++;
        size = body_piece(s, from, i, body, size, headers);
    }
    return size;
}

/* One base64 digit (0..63) into the quad at *quad (0..3, moved on) with the bits *left over:
 * the byte it completes, or -1 for a quad's first digit. */
static inline int base64_step(int *quad, int *left, int digit) {
    int byte = -1;
    switch (*quad) {
    case 0: *left = digit; break;
    case 1: byte = (*left << 2) | (digit >> 4); *left = digit & 0x0f; break;
    case 2: byte = (*left << 4) | (digit >> 2); *left = digit & 0x03; break;
    default: byte = (*left << 6) | digit; break;
    }
    *quad = (*quad + 1) % 4;
    return byte;
}

/* base64.b64decode(s, validate=True), i.e. binascii.a2b_base64 in strict mode: the number of
 * bytes (the first in *first), or -1 where it raises. */
static Py_ssize_t strict_base64(const unsigned char *s, Py_ssize_t n, int *first) {
    int quad = 0, pads = 0, padding = 0, left = 0;
    Py_ssize_t bytes = 0, i = 0;
    if (n > 0 && s[0] == '=') return -1; /* leading padding */
    if (n >= 4 && (base64_value[s[0]] | base64_value[s[1]]) < 64) { /* whole quads of digits, counted */
        *first = (base64_value[s[0]] << 2) | (base64_value[s[1]] >> 4);
        for (; n - i >= 4 && (base64_value[s[i]] | base64_value[s[i + 1]] | base64_value[s[i + 2]] |
                              base64_value[s[i + 3]]) < 64;
             i += 4)
            bytes += 3;
    }
    for (; i < n; i++) {
        if (s[i] == '=') {
            padding = 1;
            if (quad == 0) return -1; /* excess padding */
            if (quad >= 2 && quad + ++pads >= 4) return i + 1 < n ? -1 : bytes;
            continue;
        }
        int digit = base64_digit(s[i]);
        if (digit < 0 || padding) return -1; /* not base64, discontinuous padding */
        pads = 0;
        int byte = base64_step(&quad, &left, digit);
        if (byte >= 0 && bytes++ == 0) *first = byte & 0xff;
    }
    return quad == 0 ? bytes : -1;
}

static int pem_kind_is(const Piece *kind, const unsigned char *s, Py_ssize_t from, Py_ssize_t to) {
    return kind->length == to - from && memcmp(kind->text, s + from, (size_t)(to - from)) == 0;
}

/* secrets._pem_ok on the body: 1, 0, or -1 without memory. */
static int pem_ok(const unsigned char *s, Py_ssize_t n) {
    int found = 0, begin = 0, last_begin = 0;
    Py_ssize_t label = 0, label_end = 0, last = 0, last_end = 0;
    for (Py_ssize_t i = 0; n - i >= 5;) { /* _PEM_LINE.findall */
        const unsigned char *dash = memchr(s + i, '-', (size_t)(n - i));
        if (dash == NULL) break;
        i = dash - s;
        int b;
        Py_ssize_t from, to, end = pem_line_at(s, n, i, &b, &from, &to);
        if (end < 0) {
            i++;
            continue;
        }
        if (found++ == 0) {
            begin = b;
            label = from;
            label_end = to;
        }
        last_begin = b;
        last = from;
        last_end = to;
        i = end;
    }
    if (found < 2 || !begin || last_begin || label_end - label != last_end - last ||
        memcmp(s + label, s + last, (size_t)(label_end - label)) != 0)
        return 0;
    while (label < label_end && s[label] == ' ') label++; /* .strip() of [A-Z ]+ */
    while (label_end > label && s[label_end - 1] == ' ') label_end--;
    unsigned char stack[PEM_ON_STACK], *heap = NULL, *body = stack;
    if (n > PEM_ON_STACK) {
        heap = malloc((size_t)n);
        if (heap == NULL) return -1;
        body = heap;
    }
    int headers, ok = 1;
    Py_ssize_t size = pem_body(s, n, body, &headers);
    if (size < 0) {
        ok = -1;
    } else if (!(shannon_entropy(body, size) >= pem.entropy)) {
        ok = 0;
    } else if (pem_kind_is(&pem.openssh_kind, s, label, label_end)) {
        ok = size >= pem.openssh_magic.length &&
             memcmp(body, pem.openssh_magic.text, (size_t)pem.openssh_magic.length) == 0;
    } else if (!headers) {
        for (int k = 0; k < pem.der_kinds; k++) {
            if (!pem_kind_is(&pem.der_kind[k], s, label, label_end)) continue;
            Py_ssize_t usable = size;
            while (usable > 0 && body[usable - 1] == '=') usable--;
            int first = 0;
            Py_ssize_t der = strict_base64(body, usable / 4 * 4, &first);
            ok = der >= 32 && first == 0x30;
            break;
        }
    }
    free(heap);
    return ok;
}

static int classify_pem_private_key(const unsigned char *value, Py_ssize_t length) {
    if (!pem.ready) return NATIVE_ASK_PYTHON;
    int ok = pem_ok(value, length);
    return ok < 0 ? NATIVE_ASK_PYTHON : ok ? 0 : -1;
}

/* --- jwt ----------------------------------------------------------------------------------------- */

#define JWT_HEADER_MAX 4000 /* characters of a header decoded here; longer (never from the pattern: 1000) go to Python */

static struct {
    int ready;
    int examples;
    Py_ssize_t example_length[MAX_EXAMPLES];
    unsigned char example[MAX_EXAMPLES][MAX_EXAMPLE];
} jwt, jwt_staged;

static int url_digit(unsigned char c) { return c == '-' ? 62 : c == '_' ? 63 : base64_digit(c); }

/* base64.urlsafe_b64decode(s + "=" * pad): `-_` read as `+/`, then binascii.a2b_base64 not strict,
 * which skips characters outside the alphabet and stops at the padding that completes a quad.
 * The bytes go to out (if not NULL; (n + pad) / 4 * 3 + 3 of room); their number, or -1 where it raises. */
static Py_ssize_t loose_base64(const unsigned char *s, Py_ssize_t n, Py_ssize_t pad, unsigned char *out) {
    int quad = 0, pads = 0, left = 0;
    Py_ssize_t bytes = 0;
    for (Py_ssize_t i = 0; i < n + pad; i++) {
        unsigned char c = i < n ? s[i] : '=';
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4) return bytes;
            continue;
        }
        int digit = url_digit(c);
        if (digit < 0) continue;
        pads = 0;
        int byte = base64_step(&quad, &left, digit);
        if (byte >= 0) {
            if (out != NULL) out[bytes] = (unsigned char)byte;
            bytes++;
        }
    }
    return quad == 0 ? bytes : -1;
}

/* What json.loads makes of a decoded header, as far as jwt_ok and _jwt_unsigned look. */
enum {
    HEADER_ASK,     /* outside the subset read here (escapes, nesting, other encodings...): ask Python */
    HEADER_OTHER,   /* invalid (ValueError) or not a dict: both Python functions say False */
    HEADER_NO_ALG,  /* a dict without "alg" */
    HEADER_STRING,  /* "alg" (the last one) is a str ... */
    HEADER_NONE,    /* ... "none" in any case */
    HEADER_NULL,    /* ... null: str(None).lower() == "none" */
    HEADER_SCALAR,  /* ... a number, true or false */
};

/* bytes.decode("utf-8", "surrogatepass") succeeds: well-formed UTF-8, encoded surrogates
 * (ED A0-BF 80-BF) allowed. */
static int utf8_ok(const unsigned char *b, Py_ssize_t m) {
    for (Py_ssize_t i = 0; i < m;) {
        unsigned char c = b[i];
        int more;
        unsigned char low = 0x80, high = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0) low = 0xA0;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return 0;
        }
        if (m - i <= more || b[i + 1] < low || b[i + 1] > high) return 0;
        for (int k = 2; k <= more; k++)
            if (b[i + k] < 0x80 || b[i + k] > 0xBF) return 0;
        i += more + 1;
    }
    return 1;
}

static Py_ssize_t json_space(const unsigned char *b, Py_ssize_t m, Py_ssize_t i) {
    while (i < m && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
    return i;
}

/* A JSON string from b[i] (after its quote), no escape: the index after its closing quote;
 * -1 invalid (a control character, unterminated), -2 an escape (ask Python). */
static Py_ssize_t json_string(const unsigned char *b, Py_ssize_t m, Py_ssize_t i) {
    for (; i < m; i++) {
        if (b[i] == '"') return i + 1;
        if (b[i] == '\\') return -2;
        if (b[i] < 0x20) return -1; /* json's strict mode */
    }
    return -1;
}

/* A JSON number at b[i] as json's scanner reads it (_match_number_unicode): its end, -1 none
 * (an error), -2 too long to be sure of (int() refuses over 4300 digits: ask Python). */
static Py_ssize_t json_number(const unsigned char *b, Py_ssize_t m, Py_ssize_t i) {
    Py_ssize_t start = i;
    if (i < m && b[i] == '-') i++;
    if (i < m && b[i] >= '1' && b[i] <= '9') {
        while (i < m && b[i] >= '0' && b[i] <= '9') i++;
    } else if (i < m && b[i] == '0') {
        i++;
    } else {
        return -1;
    }
    if (i + 1 < m && b[i] == '.' && b[i + 1] >= '0' && b[i + 1] <= '9') {
        i += 2;
        while (i < m && b[i] >= '0' && b[i] <= '9') i++;
    }
    if (i + 1 < m && (b[i] == 'e' || b[i] == 'E')) {
        Py_ssize_t j = i + 1;
        if (j + 1 < m && (b[j] == '-' || b[j] == '+')) j++;
        Py_ssize_t digits = j;
        while (j < m && b[j] >= '0' && b[j] <= '9') j++;
        if (j > digits) i = j;
    }
    return i - start > 64 ? -2 : i;
}

static int json_word(const unsigned char *b, Py_ssize_t m, Py_ssize_t i, const char *word, Py_ssize_t size) {
    return m - i >= size && memcmp(b + i, word, (size_t)size) == 0;
}

/* json.loads(header bytes) as far as the "alg" of a dict goes (HEADER_*). Read here: UTF-8
 * text holding one object whose keys and string values have no escapes, its other values
 * numbers, true, false and null; anything else that might parse goes to Python. */
static int jwt_header(const unsigned char *b, Py_ssize_t m) {
    /* json.detect_encoding: UTF-8 unless a BOM or a zero byte among the first ones says otherwise */
    if (m > 0 && b[0] >= 0x80) return HEADER_ASK;
    for (Py_ssize_t i = 0; i < m && i < 4; i++)
        if (b[i] == 0) return HEADER_ASK;
    if (!utf8_ok(b, m)) return HEADER_OTHER; /* UnicodeDecodeError */
    Py_ssize_t i = json_space(b, m, 0);
    if (i < m && b[i] != '{') { /* not a dict, or invalid; deep nesting would raise RecursionError */
        Py_ssize_t nesting = 0;
        for (Py_ssize_t k = i; k < m; k++) nesting += b[k] == '[' || b[k] == '{';
        return nesting < 64 ? HEADER_OTHER : HEADER_ASK;
    }
    if (i == m) return HEADER_OTHER;
    int alg = HEADER_NO_ALG;
    i = json_space(b, m, i + 1);
    if (i < m && b[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (i >= m || b[i] != '"') return HEADER_OTHER;
            Py_ssize_t key = i + 1, end = json_string(b, m, key);
            if (end < 0) return end == -2 ? HEADER_ASK : HEADER_OTHER;
            int is_alg = end - 1 - key == 3 && memcmp(b + key, "alg", 3) == 0;
            i = json_space(b, m, end);
            if (i >= m || b[i] != ':') return HEADER_OTHER;
            i = json_space(b, m, i + 1);
            if (i >= m) return HEADER_OTHER;
            int kind;
            unsigned char c = b[i];
            if (c == '"') {
                Py_ssize_t from = i + 1;
                end = json_string(b, m, from);
                if (end < 0) return end == -2 ? HEADER_ASK : HEADER_OTHER;
                kind = end - 1 - from == 4 && lower(b[from]) == 'n' && lower(b[from + 1]) == 'o' &&
                               lower(b[from + 2]) == 'n' && lower(b[from + 3]) == 'e'
                           ? HEADER_NONE
                           : HEADER_STRING;
                i = end;
            } else if (c == '{' || c == '[' || c == 'N' || c == 'I' || (c == '-' && i + 1 < m && b[i + 1] == 'I')) {
                return HEADER_ASK; /* nesting, NaN, Infinity, -Infinity */
            } else if (json_word(b, m, i, "null", 4)) {
                kind = HEADER_NULL;
                i += 4;
            } else if (json_word(b, m, i, "true", 4)) {
                kind = HEADER_SCALAR;
                i += 4;
            } else if (json_word(b, m, i, "false", 5)) {
                kind = HEADER_SCALAR;
                i += 5;
            } else {
                end = json_number(b, m, i);
                if (end < 0) return end == -2 ? HEADER_ASK : HEADER_OTHER;
                kind = HEADER_SCALAR;
                i = end;
            }
            if (is_alg) alg = kind; /* the last one wins, as in the dict */
            i = json_space(b, m, i);
            if (i < m && b[i] == '}') {
                i++;
                break;
            }
            if (i >= m || b[i] != ',') return HEADER_OTHER;
            i = json_space(b, m, i + 1);
        }
    }
    return json_space(b, m, i) == m ? alg : HEADER_OTHER; /* "Extra data" */
}

/* The header of a JWT, s[:n] padded as the Python code pads it (HEADER_*). */
static int jwt_header_of(const unsigned char *s, Py_ssize_t n) {
    if (n > JWT_HEADER_MAX) return HEADER_ASK;
    unsigned char decoded[JWT_HEADER_MAX / 4 * 3 + 8];
    Py_ssize_t m = loose_base64(s, n, (4 - n % 4) % 4, decoded);
    return m < 0 ? HEADER_OTHER : jwt_header(decoded, m); /* binascii.Error */
}

/* validators.jwt_ok */
static int classify_jwt(const unsigned char *value, Py_ssize_t length) {
    Py_ssize_t dots[2], count = 0;
    for (Py_ssize_t i = 0; i < length; i++)
        if (value[i] == '.') {
            if (count == 2) return -1;
            dots[count++] = i;
        }
    if (count != 2 || dots[0] == 0 || dots[1] == dots[0] + 1) return -1;
    int header = jwt_header_of(value, dots[0]);
    if (header == HEADER_ASK) return NATIVE_ASK_PYTHON;
    Py_ssize_t payload = dots[1] - dots[0] - 1;
    if (loose_base64(value + dots[0] + 1, payload, (4 - payload % 4) % 4, NULL) < 0) return -1;
    return header == HEADER_STRING || header == HEADER_NONE ? 0 : -1;
}

/* secrets._jwt_judge: unsigned (`alg: none`, an empty signature) or a published sample. */
static int judge_jwt(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (!jwt.ready || start < 0 || end < start || end > length) return NATIVE_ASK_PYTHON;
    const unsigned char *value = text + start;
    Py_ssize_t n = end - start;
    const unsigned char *dot = memchr(value, '.', (size_t)n);
    if (dot == NULL || value[n - 1] == '.') return FORM_SAMPLE; /* rest.rpartition(".")[2] is empty */
    int header = jwt_header_of(value, dot - value);
    if (header == HEADER_ASK) return NATIVE_ASK_PYTHON;
    if (header == HEADER_NONE || header == HEADER_NULL) return FORM_SAMPLE;
    if (find(value, n, 0, example_mark.text, example_mark.length) >= 0) return FORM_SAMPLE;
    for (int e = 0; e < jwt.examples; e++)
        if (jwt.example_length[e] == n && memcmp(jwt.example[e], value, (size_t)n) == 0) return FORM_SAMPLE;
    return FORM_NONE;
}

/* --- configure --------------------------------------------------------------------------------- */

static int copy_piece(PyObject *object, Piece *piece, const char *key, const char *what) {
    if (!PyUnicode_Check(object)) {
        PyErr_Format(PyExc_TypeError, "secrets table of %s: %s must be a str", key, what);
        return -1;
    }
    if (!PyUnicode_IS_ASCII(object) || PyUnicode_GET_LENGTH(object) > MAX_PIECE) {
        PyErr_Format(PyExc_ValueError, "secrets table of %s: %s must be ASCII, at most %d characters", key, what,
                     MAX_PIECE);
        return -1;
    }
    piece->length = PyUnicode_GET_LENGTH(object);
    memcpy(piece->text, PyUnicode_1BYTE_DATA(object), (size_t)piece->length);
    return 0;
}

static int copy_size(PyObject *object, Py_ssize_t *size, const char *key, const char *what) {
    if (!PyLong_Check(object)) {
        PyErr_Format(PyExc_TypeError, "secrets table of %s: %s must be an int", key, what);
        return -1;
    }
    *size = PyLong_AsSsize_t(object);
    if (*size == -1 && PyErr_Occurred()) return -1;
    if (*size < 0 || *size > 1000000) {
        PyErr_Format(PyExc_ValueError, "secrets table of %s: %s out of range", key, what);
        return -1;
    }
    return 0;
}

static int named(const Piece *piece, const char *name) {
    size_t n = strlen(name);
    return (size_t)piece->length == n && memcmp(piece->text, name, n) == 0;
}

/* (entropy, body kind, start, separator, count, end, remove, check kind, check size, examples):
 * secrets.SecretRule.table(). */
static int parse_rule(PyObject *row, Rule *r, const char *key) {
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 10) {
        PyErr_Format(PyExc_TypeError, "secrets table of %s: a tuple of 10 items expected", key);
        return -1;
    }
    memset(r, 0, sizeof *r);
    PyObject *entropy = PyTuple_GET_ITEM(row, 0), *examples = PyTuple_GET_ITEM(row, 9);
    if (!PyFloat_Check(entropy) && !PyLong_Check(entropy)) {
        PyErr_Format(PyExc_TypeError, "secrets table of %s: the entropy threshold must be a number", key);
        return -1;
    }
    r->entropy = PyFloat_AsDouble(entropy);
    if (r->entropy == -1.0 && PyErr_Occurred()) return -1;
    Piece body, check;
    if (copy_piece(PyTuple_GET_ITEM(row, 1), &body, key, "the body kind") < 0 ||
        copy_size(PyTuple_GET_ITEM(row, 2), &r->start, key, "the body start") < 0 ||
        copy_piece(PyTuple_GET_ITEM(row, 3), &r->separator, key, "the separator") < 0 ||
        copy_size(PyTuple_GET_ITEM(row, 4), &r->count, key, "the count") < 0 ||
        copy_piece(PyTuple_GET_ITEM(row, 5), &r->end, key, "the end") < 0 ||
        copy_piece(PyTuple_GET_ITEM(row, 6), &r->remove, key, "the removed text") < 0 ||
        copy_piece(PyTuple_GET_ITEM(row, 7), &check, key, "the check kind") < 0 ||
        copy_size(PyTuple_GET_ITEM(row, 8), &r->size, key, "the check size") < 0)
        return -1;
    if (named(&body, "slice")) {
        r->body = BODY_SLICE;
    } else if (named(&body, "after") && r->separator.length > 0) {
        r->body = BODY_AFTER;
    } else if (named(&body, "field") && r->separator.length > 0 && r->end.length > 0) {
        r->body = BODY_FIELD;
    } else {
        PyErr_Format(PyExc_ValueError, "secrets table of %s: unknown body kind or empty separator", key);
        return -1;
    }
    if (check.length == 0) {
        r->check = CHECK_NONE;
    } else if (named(&check, "mixed_case")) {
        r->check = CHECK_MIXED_CASE;
    } else if (named(&check, "base62_crc")) {
        r->check = CHECK_BASE62_CRC;
    } else if (named(&check, "base64_key")) {
        r->check = CHECK_BASE64_KEY;
    } else {
        PyErr_Format(PyExc_ValueError, "secrets table of %s: unknown check kind", key);
        return -1;
    }
    if (!PyTuple_Check(examples)) {
        PyErr_Format(PyExc_TypeError, "secrets table of %s: the examples must be a tuple", key);
        return -1;
    }
    for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(examples); e++) {
        PyObject *example = PyTuple_GET_ITEM(examples, e);
        if (!PyUnicode_Check(example)) {
            PyErr_Format(PyExc_TypeError, "secrets table of %s: an example must be a str", key);
            return -1;
        }
        if (!PyUnicode_IS_ASCII(example)) continue; /* never equal to ASCII text */
        Py_ssize_t n = PyUnicode_GET_LENGTH(example);
        if (r->examples == MAX_EXAMPLES || n > MAX_EXAMPLE) {
            PyErr_Format(PyExc_ValueError, "secrets table of %s: at most %d examples of %d characters", key,
                         MAX_EXAMPLES, MAX_EXAMPLE);
            return -1;
        }
        memcpy(r->example[r->examples], PyUnicode_1BYTE_DATA(example), (size_t)n);
        r->example_length[r->examples++] = n;
    }
    r->ready = 1;
    return 0;
}

static PyObject *table_item(PyObject *tables, const char *name) {
    PyObject *item = PyDict_GetItemString(tables, name);
    if (item == NULL) PyErr_Format(PyExc_ValueError, "the native tables lack %s (secrets.native_tables())", name);
    return item;
}

/* secrets.native_tables()["secrets.pem"]: (entropy threshold, OpenSSH kind, OpenSSH magic, DER kinds). */
static int parse_pem(PyObject *row) {
    memset(&pem_staged, 0, sizeof pem_staged);
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 4) {
        PyErr_SetString(PyExc_TypeError, "secrets.pem: a tuple of 4 items expected");
        return -1;
    }
    PyObject *entropy = PyTuple_GET_ITEM(row, 0), *kinds = PyTuple_GET_ITEM(row, 3);
    if (!PyFloat_Check(entropy) && !PyLong_Check(entropy)) {
        PyErr_SetString(PyExc_TypeError, "secrets.pem: the entropy threshold must be a number");
        return -1;
    }
    pem_staged.entropy = PyFloat_AsDouble(entropy);
    if (pem_staged.entropy == -1.0 && PyErr_Occurred()) return -1;
    if (copy_piece(PyTuple_GET_ITEM(row, 1), &pem_staged.openssh_kind, "pem_private_key", "the OpenSSH kind") < 0 ||
        copy_piece(PyTuple_GET_ITEM(row, 2), &pem_staged.openssh_magic, "pem_private_key", "the OpenSSH magic") < 0)
        return -1;
    if (!PyTuple_Check(kinds)) {
        PyErr_SetString(PyExc_TypeError, "secrets.pem: the DER kinds must be a tuple");
        return -1;
    }
    if (PyTuple_GET_SIZE(kinds) > PEM_MAX_KINDS) {
        PyErr_Format(PyExc_ValueError, "secrets.pem: at most %d DER kinds", PEM_MAX_KINDS);
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kinds); k++)
        if (copy_piece(PyTuple_GET_ITEM(kinds, k), &pem_staged.der_kind[pem_staged.der_kinds++], "pem_private_key",
                       "a DER kind") < 0)
            return -1;
    pem_staged.ready = 1;
    return 0;
}

/* secrets.native_tables()["secrets.jwt_examples"]: the published tokens. */
static int parse_jwt(PyObject *examples) {
    memset(&jwt_staged, 0, sizeof jwt_staged);
    if (!PyTuple_Check(examples)) {
        PyErr_SetString(PyExc_TypeError, "secrets.jwt_examples must be a tuple");
        return -1;
    }
    for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(examples); e++) {
        PyObject *example = PyTuple_GET_ITEM(examples, e);
        if (!PyUnicode_Check(example)) {
            PyErr_SetString(PyExc_TypeError, "secrets.jwt_examples: an example must be a str");
            return -1;
        }
        if (!PyUnicode_IS_ASCII(example)) continue; /* never equal to ASCII text */
        Py_ssize_t n = PyUnicode_GET_LENGTH(example);
        if (jwt_staged.examples == MAX_EXAMPLES || n > MAX_EXAMPLE) {
            PyErr_Format(PyExc_ValueError, "secrets.jwt_examples: at most %d examples of %d characters", MAX_EXAMPLES,
                         MAX_EXAMPLE);
            return -1;
        }
        memcpy(jwt_staged.example[jwt_staged.examples], PyUnicode_1BYTE_DATA(example), (size_t)n);
        jwt_staged.example_length[jwt_staged.examples++] = n;
    }
    jwt_staged.ready = 1;
    return 0;
}

int secrets_configure(PyObject *tables) {
    if (!PyDict_Check(tables)) {
        PyErr_SetString(PyExc_TypeError, "the native tables must be a dict");
        return -1;
    }
    PyObject *rows = table_item(tables, "secrets.rules");
    PyObject *mark = rows == NULL ? NULL : table_item(tables, "secrets.example_mark");
    PyObject *alphabet = mark == NULL ? NULL : table_item(tables, "secrets.base62_alphabet");
    PyObject *window = alphabet == NULL ? NULL : table_item(tables, "secrets.aws_id_window");
    PyObject *pem_row = window == NULL ? NULL : table_item(tables, "secrets.pem");
    PyObject *jwt_examples = pem_row == NULL ? NULL : table_item(tables, "secrets.jwt_examples");
    if (jwt_examples == NULL || parse_pem(pem_row) < 0 || parse_jwt(jwt_examples) < 0) return -1;
    if (!PyDict_Check(rows)) {
        PyErr_SetString(PyExc_TypeError, "secrets.rules must be a dict");
        return -1;
    }
    Piece staged_mark, digits;
    if (copy_piece(mark, &staged_mark, "secrets", "the example mark") < 0 ||
        copy_piece(alphabet, &digits, "secrets", "the base 62 alphabet") < 0)
        return -1;
    Py_ssize_t staged_window;
    if (copy_size(window, &staged_window, "secrets", "the AWS key id window") < 0) return -1;
    if (digits.length != 62) {
        PyErr_SetString(PyExc_ValueError, "secrets.base62_alphabet must have 62 characters");
        return -1;
    }
    for (int i = 0; i < RULE_COUNT; i++) {
        PyObject *row = PyDict_GetItemString(rows, RULE_KEYS[i]);
        if (row == NULL) {
            PyErr_Format(PyExc_ValueError, "secrets.rules lacks %s", RULE_KEYS[i]);
            return -1;
        }
        if (parse_rule(row, &staged[i], RULE_KEYS[i]) < 0) return -1;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    memcpy(base62, digits.text, 62);
    fill_char_tables();
    example_mark = staged_mark;
    aws_id_window = staged_window;
    memcpy(rules, staged, sizeof rules);
    pem = pem_staged;
    jwt = jwt_staged;
    return 0;
}

/* --- the table ------------------------------------------------------------------------------- */

#define CLASSIFY(name, index) \
    static int classify_##name(const unsigned char *value, Py_ssize_t length) { \
        return classify(&rules[index], value, length); \
    }
#define JUDGE(name, index) \
    static int judge_##name(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) { \
        return judge(&rules[index], text, length, start, end); \
    }
#define BOTH(name, index) CLASSIFY(name, index) JUDGE(name, index)

BOTH(aws_key_id, AWS_KEY_ID)
BOTH(aws_secret_labelled, AWS_SECRET_LABELLED)
BOTH(aws_secret_paired, AWS_SECRET_PAIRED)
CLASSIFY(aws_secret_keyed, AWS_SECRET_KEYED)     /* its judge reads the text around: above */
CLASSIFY(aws_secret_near_id, AWS_SECRET_NEAR_ID) /* idem */
BOTH(gcp_api_key, GCP_API_KEY)
BOTH(azure_storage_key, AZURE_STORAGE_KEY)
BOTH(azure_connection_string, AZURE_CONNECTION_STRING)
BOTH(github_token, GITHUB_TOKEN)
BOTH(github_fine_grained, GITHUB_FINE_GRAINED)
BOTH(openai_key, OPENAI_KEY)
BOTH(openai_legacy_key, OPENAI_LEGACY_KEY)
BOTH(anthropic_key, ANTHROPIC_KEY)
BOTH(slack_token, SLACK_TOKEN)
BOTH(slack_webhook, SLACK_WEBHOOK)
BOTH(stripe_key, STRIPE_KEY)
BOTH(stripe_test_key, STRIPE_TEST_KEY)
BOTH(npm_token, NPM_TOKEN)
BOTH(pypi_token, PYPI_TOKEN)

#define TWIN(name) {#name, classify_##name, judge_##name, NULL}

const NativeDetector SECRET_DETECTORS[] = {
    TWIN(aws_key_id),
    TWIN(aws_secret_labelled),
    TWIN(aws_secret_paired),
    TWIN(aws_secret_keyed),
    TWIN(aws_secret_near_id),
    TWIN(gcp_api_key),
    TWIN(azure_storage_key),
    TWIN(azure_connection_string),
    TWIN(github_token),
    TWIN(github_fine_grained),
    TWIN(openai_key),
    TWIN(openai_legacy_key),
    TWIN(anthropic_key),
    TWIN(slack_token),
    TWIN(slack_webhook),
    TWIN(stripe_key),
    TWIN(stripe_test_key),
    TWIN(npm_token),
    TWIN(pypi_token),
    {"jwt", classify_jwt, judge_jwt, NULL},
    {"pem_private_key", classify_pem_private_key, NULL, NULL}, /* it has no judge */
    {NULL, NULL, NULL, NULL},
};
