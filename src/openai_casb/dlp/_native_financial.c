/* Native twins of the Financial Information and identifier validators (see _exactnative.h).
 *
 * Each function answers exactly as its twin in validators.py for every ASCII value. The data
 * (card brands and groupings, test cards, IBAN layouts, samples, Verhoeff tables...) comes from
 * validators.native_tables() through financial_configure(); only the checksum rules themselves
 * (Luhn, weights, mod 97) are written here. Values are attacker text: every index is bounded and
 * nothing is allocated per call.
 */
#include "_exactnative.h"

#include <string.h>

enum {
    MAX_BRANDS = 16,
    MAX_RANGES = 8,
    MAX_CARD_LENGTH = 19, /* card_entry takes 13 to 19 digits */
    MAX_GROUPINGS = 8,    /* per total length */
    MAX_PARTS = 24,       /* groups in one grouping */
    MAX_WORDS = 256,      /* test cards, samples */
    MAX_WORD = 32,
    MAX_SEGMENTS = 16,    /* an IBAN layout's parts */
    MAX_BBAN = 60,
    DNI_LETTERS = 23,
};

typedef struct {
    int entry;                 /* index in validators.CARD_ENTRIES */
    int range_count;
    long long low[MAX_RANGES], high[MAX_RANGES];
    int width[MAX_RANGES];     /* prefix length */
    unsigned int lengths;      /* bit n: n digits allowed */
} CardBrand;

typedef struct {
    int count;
    unsigned char length[MAX_WORDS];
    char text[MAX_WORDS][MAX_WORD];
} WordSet;

typedef struct {
    int present;
    int count;
    int total;                 /* BBAN length */
    unsigned char width[MAX_SEGMENTS];
    unsigned char kind[MAX_SEGMENTS]; /* 'n', 'a' or 'c' */
} IbanLayout;

typedef struct {
    int brand_count;
    CardBrand brands[MAX_BRANDS];
    int grouping_count[MAX_CARD_LENGTH + 1];
    int grouping_parts[MAX_CARD_LENGTH + 1][MAX_GROUPINGS];
    unsigned char grouping[MAX_CARD_LENGTH + 1][MAX_GROUPINGS][MAX_PARTS];
    WordSet test_cards;
    unsigned char path_end[256];
    IbanLayout iban[26 * 26];
    unsigned char aba_prefixes[100];
    WordSet ssn_samples;
    unsigned char itin_groups[100];
    unsigned char nino_bad_first[256];
    unsigned char nino_bad_second[256];
    unsigned char nino_bad_prefix[26 * 26];
    unsigned char verhoeff_d[10][10];
    unsigned char verhoeff_p[8][10];
    char dni_letters[DNI_LETTERS];
} FinancialData;

static FinancialData data;     /* what the validators read */
static FinancialData staging;  /* filled by configure, copied to `data` when all of it parsed */

/* --- configure ------------------------------------------------------------------------------- */

static PyObject *table(PyObject *tables, const char *key) {
    PyObject *item = PyDict_GetItemString(tables, key);
    if (item == NULL && !PyErr_Occurred()) PyErr_Format(PyExc_KeyError, "native tables lack %s", key);
    return item;
}

/* A sequence (tuple or list) -> a new reference to its fast form, with its size checked. */
static PyObject *sequence(PyObject *object, const char *what, Py_ssize_t low, Py_ssize_t high) {
    if (!PyTuple_Check(object) && !PyList_Check(object)) {
        PyErr_Format(PyExc_TypeError, "%s is a tuple", what);
        return NULL;
    }
    PyObject *fast = PySequence_Fast(object, what);
    if (fast == NULL) return NULL;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(fast);
    if (size < low || size > high) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "%s holds %zd items, not %zd to %zd", what, size, low, high);
        return NULL;
    }
    return fast;
}

static int integer(PyObject *object, const char *what, long long low, long long high, long long *out) {
    if (!PyLong_Check(object)) {
        PyErr_Format(PyExc_TypeError, "%s is an int", what);
        return -1;
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (overflow || value < low || value > high) {
        PyErr_Format(PyExc_ValueError, "%s is outside %lld..%lld", what, low, high);
        return -1;
    }
    *out = value;
    return 0;
}

static int ascii_text(PyObject *object, const char *what, Py_ssize_t low, Py_ssize_t high, const char **out,
                      Py_ssize_t *length) {
    if (!PyUnicode_Check(object)) {
        PyErr_Format(PyExc_TypeError, "%s is a str", what);
        return -1;
    }
    if (!PyUnicode_IS_ASCII(object) || PyUnicode_GET_LENGTH(object) < low || PyUnicode_GET_LENGTH(object) > high) {
        PyErr_Format(PyExc_ValueError, "%s is ASCII of %zd to %zd characters", what, low, high);
        return -1;
    }
    *out = (const char *)PyUnicode_1BYTE_DATA(object);
    *length = PyUnicode_GET_LENGTH(object);
    return 0;
}

static int parse_brand(PyObject *item, CardBrand *brand) {
    PyObject *fast = sequence(item, "a card brand", 3, 3);
    if (fast == NULL) return -1;
    int rc = -1;
    PyObject *ranges = NULL, *lengths = NULL;
    long long value;
    if (integer(PySequence_Fast_GET_ITEM(fast, 0), "a card brand's entry", 0, 63, &value) < 0) goto done;
    brand->entry = (int)value;
    ranges = sequence(PySequence_Fast_GET_ITEM(fast, 1), "a card brand's ranges", 0, MAX_RANGES);
    if (ranges == NULL) goto done;
    brand->range_count = (int)PySequence_Fast_GET_SIZE(ranges);
    for (int r = 0; r < brand->range_count; r++) {
        PyObject *range = sequence(PySequence_Fast_GET_ITEM(ranges, r), "a card brand's range", 3, 3);
        if (range == NULL) goto done;
        long long low, high, width;
        int ok = integer(PySequence_Fast_GET_ITEM(range, 0), "a range's low", 0, 999999999999999999LL, &low) == 0 &&
                 integer(PySequence_Fast_GET_ITEM(range, 1), "a range's high", 0, 999999999999999999LL, &high) == 0 &&
                 integer(PySequence_Fast_GET_ITEM(range, 2), "a range's prefix length", 1, 18, &width) == 0;
        Py_DECREF(range);
        if (!ok) goto done;
        brand->low[r] = low;
        brand->high[r] = high;
        brand->width[r] = (int)width;
    }
    lengths = sequence(PySequence_Fast_GET_ITEM(fast, 2), "a card brand's lengths", 0, 32);
    if (lengths == NULL) goto done;
    brand->lengths = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(lengths); i++) {
        if (integer(PySequence_Fast_GET_ITEM(lengths, i), "a card length", 0, 31, &value) < 0) goto done;
        brand->lengths |= 1u << value;
    }
    rc = 0;
done:
    Py_XDECREF(ranges);
    Py_XDECREF(lengths);
    Py_DECREF(fast);
    return rc;
}

/* Brands name their entry by its index in financial.card_entries (the card detector's entries):
 * checked here, since the core indexes the detector's entries with what card_classify returns. */
static int parse_brands(PyObject *tables) {
    PyObject *entries = table(tables, "financial.card_entries");
    if (entries == NULL) return -1;
    PyObject *fast = sequence(entries, "financial.card_entries", 0, 64);
    if (fast == NULL) return -1;
    int entry_count = (int)PySequence_Fast_GET_SIZE(fast);
    Py_DECREF(fast);
    PyObject *object = table(tables, "financial.card_brands");
    if (object == NULL) return -1;
    fast = sequence(object, "financial.card_brands", 0, MAX_BRANDS);
    if (fast == NULL) return -1;
    staging.brand_count = (int)PySequence_Fast_GET_SIZE(fast);
    for (int b = 0; b < staging.brand_count; b++) {
        if (parse_brand(PySequence_Fast_GET_ITEM(fast, b), &staging.brands[b]) < 0) {
            Py_DECREF(fast);
            return -1;
        }
        if (staging.brands[b].entry >= entry_count) {
            Py_DECREF(fast);
            PyErr_SetString(PyExc_ValueError, "a card brand names an entry financial.card_entries does not have");
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

/* Groupings of lengths other than 13 to 19 are never asked for (card_entry refuses them first). */
static int parse_groupings(PyObject *tables) {
    PyObject *object = table(tables, "financial.card_groupings");
    if (object == NULL) return -1;
    if (!PyDict_Check(object)) {
        PyErr_SetString(PyExc_TypeError, "financial.card_groupings is a dict");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t position = 0;
    while (PyDict_Next(object, &position, &key, &value)) {
        long long length;
        if (integer(key, "a card grouping's length", 0, 1000, &length) < 0) return -1;
        PyObject *groupings = sequence(value, "a length's card groupings", 0, MAX_GROUPINGS);
        if (groupings == NULL) return -1;
        if (length > MAX_CARD_LENGTH) {
            Py_DECREF(groupings);
            continue;
        }
        staging.grouping_count[length] = (int)PySequence_Fast_GET_SIZE(groupings);
        for (int g = 0; g < staging.grouping_count[length]; g++) {
            PyObject *parts = sequence(PySequence_Fast_GET_ITEM(groupings, g), "a card grouping", 0, MAX_PARTS);
            if (parts == NULL) {
                Py_DECREF(groupings);
                return -1;
            }
            staging.grouping_parts[length][g] = (int)PySequence_Fast_GET_SIZE(parts);
            for (Py_ssize_t p = 0; p < PySequence_Fast_GET_SIZE(parts); p++) {
                long long size;
                if (integer(PySequence_Fast_GET_ITEM(parts, p), "a card group's size", 0, 255, &size) < 0) {
                    Py_DECREF(parts);
                    Py_DECREF(groupings);
                    return -1;
                }
                staging.grouping[length][g][p] = (unsigned char)size;
            }
            Py_DECREF(parts);
        }
        Py_DECREF(groupings);
    }
    return 0;
}

static int parse_words(PyObject *tables, const char *key, WordSet *set) {
    PyObject *object = table(tables, key);
    if (object == NULL) return -1;
    PyObject *fast = sequence(object, key, 0, MAX_WORDS);
    if (fast == NULL) return -1;
    set->count = (int)PySequence_Fast_GET_SIZE(fast);
    for (int i = 0; i < set->count; i++) {
        const char *text;
        Py_ssize_t length;
        if (ascii_text(PySequence_Fast_GET_ITEM(fast, i), key, 0, MAX_WORD, &text, &length) < 0) {
            Py_DECREF(fast);
            return -1;
        }
        memcpy(set->text[i], text, (size_t)length);
        set->length[i] = (unsigned char)length;
    }
    Py_DECREF(fast);
    return 0;
}

static int parse_chars(PyObject *tables, const char *key, unsigned char *flags) {
    PyObject *object = table(tables, key);
    if (object == NULL) return -1;
    const char *text;
    Py_ssize_t length;
    if (ascii_text(object, key, 0, 256, &text, &length) < 0) return -1;
    for (Py_ssize_t i = 0; i < length; i++) flags[(unsigned char)text[i]] = 1;
    return 0;
}

static int parse_numbers(PyObject *tables, const char *key, unsigned char *flags, int high) {
    PyObject *object = table(tables, key);
    if (object == NULL) return -1;
    PyObject *fast = sequence(object, key, 0, high + 1);
    if (fast == NULL) return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        long long value;
        if (integer(PySequence_Fast_GET_ITEM(fast, i), key, 0, high, &value) < 0) {
            Py_DECREF(fast);
            return -1;
        }
        flags[value] = 1;
    }
    Py_DECREF(fast);
    return 0;
}

static inline int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
static inline int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static inline unsigned char to_upper(unsigned char c) { return is_lower(c) ? (unsigned char)(c - 32) : c; }

/* "4a6n8n" -> (4, 'a'), (6, 'n'), (8, 'n'): a width then one of n, a, c; nothing left over. */
static int parse_layout(const char *text, Py_ssize_t length, IbanLayout *layout) {
    int width = 0, digits = 0;
    layout->count = 0;
    layout->total = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (is_digit(c)) {
            width = width * 10 + (c - '0');
            if (++digits > 2) break;
            continue;
        }
        if ((c != 'n' && c != 'a' && c != 'c') || width < 1 || layout->count >= MAX_SEGMENTS) break;
        layout->width[layout->count] = (unsigned char)width;
        layout->kind[layout->count] = c;
        layout->count++;
        layout->total += width;
        width = digits = 0;
        if (i + 1 == length) {
            if (layout->total > MAX_BBAN) break;
            layout->present = 1;
            return 0;
        }
    }
    PyErr_SetString(PyExc_ValueError, "an IBAN layout is widths and n, a or c, at most 60 characters");
    return -1;
}

static int parse_iban(PyObject *tables) {
    PyObject *object = table(tables, "financial.iban_layouts");
    if (object == NULL) return -1;
    if (!PyDict_Check(object)) {
        PyErr_SetString(PyExc_TypeError, "financial.iban_layouts is a dict");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t position = 0;
    while (PyDict_Next(object, &position, &key, &value)) {
        const char *country, *layout;
        Py_ssize_t country_length, layout_length;
        if (ascii_text(key, "an IBAN country", 2, 2, &country, &country_length) < 0 ||
            ascii_text(value, "an IBAN layout", 1, 64, &layout, &layout_length) < 0)
            return -1;
        if (!is_upper((unsigned char)country[0]) || !is_upper((unsigned char)country[1])) {
            PyErr_SetString(PyExc_ValueError, "an IBAN country is two capitals");
            return -1;
        }
        if (parse_layout(layout, layout_length, &staging.iban[(country[0] - 'A') * 26 + (country[1] - 'A')]) < 0)
            return -1;
    }
    return 0;
}

static int parse_nino_prefixes(PyObject *tables) {
    const char *key = "financial.nino_bad_prefixes";
    PyObject *object = table(tables, key);
    if (object == NULL) return -1;
    PyObject *fast = sequence(object, key, 0, 26 * 26);
    if (fast == NULL) return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        const char *text;
        Py_ssize_t length;
        if (ascii_text(PySequence_Fast_GET_ITEM(fast, i), key, 2, 2, &text, &length) < 0) {
            Py_DECREF(fast);
            return -1;
        }
        /* uk_nino_ok compares capitals: a prefix of anything else never matches */
        if (is_upper((unsigned char)text[0]) && is_upper((unsigned char)text[1]))
            staging.nino_bad_prefix[(text[0] - 'A') * 26 + (text[1] - 'A')] = 1;
    }
    Py_DECREF(fast);
    return 0;
}

static int parse_matrix(PyObject *tables, const char *key, unsigned char *cells, int rows) {
    PyObject *object = table(tables, key);
    if (object == NULL) return -1;
    PyObject *fast = sequence(object, key, rows, rows);
    if (fast == NULL) return -1;
    for (int r = 0; r < rows; r++) {
        PyObject *row = sequence(PySequence_Fast_GET_ITEM(fast, r), key, 10, 10);
        if (row == NULL) {
            Py_DECREF(fast);
            return -1;
        }
        for (int c = 0; c < 10; c++) {
            long long value;
            if (integer(PySequence_Fast_GET_ITEM(row, c), key, 0, 9, &value) < 0) {
                Py_DECREF(row);
                Py_DECREF(fast);
                return -1;
            }
            cells[r * 10 + c] = (unsigned char)value;
        }
        Py_DECREF(row);
    }
    Py_DECREF(fast);
    return 0;
}

static int parse_dni(PyObject *tables) {
    PyObject *object = table(tables, "financial.dni_letters");
    if (object == NULL) return -1;
    const char *text;
    Py_ssize_t length;
    if (ascii_text(object, "financial.dni_letters", DNI_LETTERS, DNI_LETTERS, &text, &length) < 0) return -1;
    memcpy(staging.dni_letters, text, DNI_LETTERS);
    return 0;
}

int financial_configure(PyObject *tables) {
    if (!PyDict_Check(tables)) {
        PyErr_SetString(PyExc_TypeError, "the native tables are a dict");
        return -1;
    }
    memset(&staging, 0, sizeof staging);
    if (parse_brands(tables) < 0 || parse_groupings(tables) < 0 ||
        parse_words(tables, "financial.test_cards", &staging.test_cards) < 0 ||
        parse_chars(tables, "financial.path_end", staging.path_end) < 0 || parse_iban(tables) < 0 ||
        parse_numbers(tables, "financial.aba_prefixes", staging.aba_prefixes, 99) < 0 ||
        parse_words(tables, "financial.ssn_samples", &staging.ssn_samples) < 0 ||
        parse_numbers(tables, "financial.itin_groups", staging.itin_groups, 99) < 0 ||
        parse_chars(tables, "financial.nino_bad_first", staging.nino_bad_first) < 0 ||
        parse_chars(tables, "financial.nino_bad_second", staging.nino_bad_second) < 0 || parse_nino_prefixes(tables) < 0 ||
        parse_matrix(tables, "financial.verhoeff_d", &staging.verhoeff_d[0][0], 10) < 0 ||
        parse_matrix(tables, "financial.verhoeff_p", &staging.verhoeff_p[0][0], 8) < 0 || parse_dni(tables) < 0)
        return -1;
    data = staging;
    return 0;
}

/* --- shared rules ---------------------------------------------------------------------------- */

/* digits_only: the value's digits, up to `capacity` of them kept; returns how many there are. */
static Py_ssize_t digits_of(const unsigned char *value, Py_ssize_t length, unsigned char *out, Py_ssize_t capacity) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < length; i++)
        if (is_digit(value[i])) {
            if (count < capacity) out[count] = value[i];
            count++;
        }
    return count;
}

/* consistent_separators: at most one of `separators` occurs. */
static int consistent(const unsigned char *value, Py_ssize_t length, const char *separators) {
    int seen[4] = {0, 0, 0, 0};
    int kinds = 0;
    for (Py_ssize_t i = 0; i < length; i++)
        for (int s = 0; s < 4 && separators[s] != '\0'; s++)
            if (value[i] == (unsigned char)separators[s] && !seen[s]) {
                seen[s] = 1;
                kinds++;
            }
    return kinds <= 1;
}

static int all_digits(const unsigned char *s, Py_ssize_t n) {
    if (n <= 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_digit(s[i])) return 0;
    return 1;
}

/* len(set(number)) == 1 */
static int one_digit(const unsigned char *number, Py_ssize_t n) {
    for (Py_ssize_t i = 1; i < n; i++)
        if (number[i] != number[0]) return 0;
    return 1;
}

/* luhn_ok over n digits (n > 0, checked by the callers). */
static int luhn(const unsigned char *number, Py_ssize_t n) {
    int total = 0;
    for (Py_ssize_t index = 0; index < n; index++) {
        int digit = number[n - 1 - index] - '0';
        if (index % 2) digit = digit > 4 ? digit * 2 - 9 : digit * 2;
        total += digit;
    }
    return total % 10 == 0;
}

static int in_words(const WordSet *set, const unsigned char *text, Py_ssize_t n) {
    for (int i = 0; i < set->count; i++)
        if (set->length[i] == n && memcmp(set->text[i], text, (size_t)n) == 0) return 1;
    return 0;
}

static int number_at(const unsigned char *s, int width) {
    int value = 0;
    for (int i = 0; i < width; i++) value = value * 10 + (s[i] - '0');
    return value;
}

/* --- payment cards --------------------------------------------------------------------------- */

/* card_brand: the entry of the first brand issuing these digits, or -1. */
static int card_brand(const unsigned char *number, Py_ssize_t n) {
    if (n < 0 || n > 31) return -1;
    for (int b = 0; b < data.brand_count; b++) {
        const CardBrand *brand = &data.brands[b];
        if (!(brand->lengths & (1u << n))) continue;
        for (int r = 0; r < brand->range_count; r++) {
            long long prefix = 0;
            for (Py_ssize_t i = 0; i < brand->width[r] && i < n; i++) prefix = prefix * 10 + (number[i] - '0');
            if (brand->low[r] <= prefix && prefix <= brand->high[r]) return brand->entry;
        }
    }
    return -1;
}

static int card_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[MAX_CARD_LENGTH];
    int groups[MAX_PARTS];
    int group_count = 0, group = 0;
    Py_ssize_t n = 0;
    unsigned char separator = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = value[i];
        if (is_digit(c)) {
            if (n >= MAX_CARD_LENGTH) return -1;
            number[n++] = c;
            group++;
        } else if (c == ' ' || c == '-') {
            if (separator != 0 && c != separator) return -1; /* consistent_separators */
            separator = c;
            if (group_count >= MAX_PARTS - 1) return -1;    /* more groups than any grouping has */
            groups[group_count++] = group;
            group = 0;
        } else
            return -1;
    }
    groups[group_count++] = group;
    if (n < 13) return -1;
    if (group_count > 1) {
        int found = 0;
        for (int g = 0; g < data.grouping_count[n] && !found; g++) {
            if (data.grouping_parts[n][g] != group_count) continue;
            found = 1;
            for (int p = 0; p < group_count; p++)
                if (data.grouping[n][g][p] != groups[p]) found = 0;
        }
        if (!found) return -1;
    }
    if (one_digit(number, n) || !luhn(number, n)) return -1;
    return card_brand(number, n);
}

static int card_refused(const unsigned char *value, Py_ssize_t length) {
    return all_digits(value, length) && length >= 13 && length <= 19 && !one_digit(value, length) &&
           card_brand(value, length) >= 0 && !luhn(value, length);
}

static int card_judge(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (start < 0 || end < start || end > length) return FORM_NONE;
    unsigned char number[MAX_WORD];
    Py_ssize_t n = digits_of(text + start, end - start, number, MAX_WORD);
    if (n <= MAX_WORD && in_words(&data.test_cards, number, n)) return FORM_SAMPLE;
    if (n == 13) return FORM_WEAK;
    if (n == end - start && start > 0 && text[start - 1] == '/' && (end == length || data.path_end[text[end]]))
        return FORM_WEAK;
    return FORM_NONE;
}

/* --- banking --------------------------------------------------------------------------------- */

static int iban_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char iban[4 + MAX_BBAN];
    Py_ssize_t n = 0;
    int spaced = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (value[i] == ' ') {
            spaced = 1;
            continue;
        }
        if (is_lower(value[i]) || n >= (Py_ssize_t)sizeof iban) return -1; /* not upper, or longer than any layout */
        iban[n++] = value[i];
    }
    if (n < 15 || !is_upper(iban[0]) || !is_upper(iban[1])) return -1;
    const IbanLayout *layout = &data.iban[(iban[0] - 'A') * 26 + (iban[1] - 'A')];
    if (!layout->present || !is_digit(iban[2]) || !is_digit(iban[3]) || n - 4 != layout->total) return -1;
    Py_ssize_t position = 4;
    for (int s = 0; s < layout->count; s++)
        for (int i = 0; i < layout->width[s]; i++, position++) {
            unsigned char c = iban[position];
            if (layout->kind[s] == 'n' ? !is_digit(c) : layout->kind[s] == 'a' ? !is_upper(c) : !is_alnum(c))
                return -1;
        }
    if (spaced) { /* groups of four, the last one of 1 to 4 */
        Py_ssize_t group = 0;
        for (Py_ssize_t i = 0; i < length; i++) {
            if (value[i] != ' ') {
                group++;
                continue;
            }
            if (group != 4) return -1;
            group = 0;
        }
        if (group < 1 || group > 4) return -1;
    }
    int remainder = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = iban[(i + 4) % n];
        remainder = is_digit(c) ? (remainder * 10 + (c - '0')) % 97 : (remainder * 100 + (c - 'A' + 10)) % 97;
    }
    return remainder == 1 ? 0 : -1;
}

static int aba_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (digits_of(value, length, number, 9) != 9 || !data.aba_prefixes[number_at(number, 2)] || one_digit(number, 9))
        return -1;
    static const int weights[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    int total = 0;
    for (int i = 0; i < 9; i++) total += (number[i] - '0') * weights[i];
    return total % 10 == 0 ? 0 : -1;
}

/* --- national identifiers -------------------------------------------------------------------- */

static int us_ssn_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (!consistent(value, length, " -.") || digits_of(value, length, number, 9) != 9 ||
        in_words(&data.ssn_samples, number, 9) || one_digit(number, 9))
        return -1;
    int area = number_at(number, 3), group = number_at(number + 3, 2), serial = number_at(number + 5, 4);
    return area != 0 && area != 666 && number[0] != '9' && group != 0 && serial != 0 ? 0 : -1;
}

static int us_itin_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (!consistent(value, length, " -") || digits_of(value, length, number, 9) != 9) return -1;
    return number[0] == '9' && data.itin_groups[number_at(number + 3, 2)] ? 0 : -1;
}

static int uk_nino_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char nino[9];
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (value[i] == ' ') continue;
        if (n >= 9) return -1;
        nino[n++] = to_upper(value[i]);
    }
    if (n != 9 || !is_upper(nino[0]) || !is_upper(nino[1]) || !all_digits(nino + 2, 6) || nino[8] < 'A' ||
        nino[8] > 'D')
        return -1;
    return !data.nino_bad_first[nino[0]] && !data.nino_bad_second[nino[1]] &&
                   !data.nino_bad_prefix[(nino[0] - 'A') * 26 + (nino[1] - 'A')]
               ? 0
               : -1;
}

static int uk_nhs_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[10];
    if (!consistent(value, length, " -") || digits_of(value, length, number, 10) != 10 || one_digit(number, 10))
        return -1;
    int total = 0;
    for (int i = 0; i < 9; i++) total += (number[i] - '0') * (10 - i);
    int check = 11 - total % 11;
    if (check == 11) check = 0;
    return check != 10 && check == number[9] - '0' ? 0 : -1;
}

static int ca_sin_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (!consistent(value, length, " -") || digits_of(value, length, number, 9) != 9) return -1;
    return number[0] != '0' && number[0] != '8' && !one_digit(number, 9) && luhn(number, 9) ? 0 : -1;
}

static int au_tfn_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (!consistent(value, length, " -") || digits_of(value, length, number, 9) != 9 || one_digit(number, 9))
        return -1;
    static const int weights[9] = {1, 4, 3, 7, 5, 8, 6, 9, 10};
    int total = 0;
    for (int i = 0; i < 9; i++) total += (number[i] - '0') * weights[i];
    return total % 11 == 0 ? 0 : -1;
}

static int in_aadhaar_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[12];
    if (!consistent(value, length, " -") || digits_of(value, length, number, 12) != 12 || number[0] == '0' ||
        number[0] == '1' || one_digit(number, 12))
        return -1;
    int check = 0;
    for (int index = 0; index < 12; index++)
        check = data.verhoeff_d[check][data.verhoeff_p[index % 8][number[11 - index] - '0']];
    return check == 0 ? 0 : -1;
}

static int aadhaar_judge(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end) {
    if (start < 0 || end < start || end > length || !all_digits(text + start, end - start)) return FORM_NONE;
    if (start > 0 && text[start - 1] == ':' && end < length && text[end] == ':') return FORM_REJECT;
    return FORM_WEAK;
}

static int br_cpf_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[11];
    if (digits_of(value, length, number, 11) != 11 || one_digit(number, 11)) return -1;
    if ((memchr(value, '.', (size_t)length) != NULL || memchr(value, '-', (size_t)length) != NULL) &&
        !(length > 11 && value[3] == '.' && value[7] == '.' && value[11] == '-'))
        return -1;
    for (int size = 9; size <= 10; size++) {
        int total = 0;
        for (int i = 0; i < size; i++) total += (number[i] - '0') * (size + 1 - i);
        if ((total * 10 % 11) % 10 != number[size] - '0') return -1;
    }
    return 0;
}

static int es_dni_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char text[9];
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (value[i] == '-' || value[i] == ' ') continue;
        if (n >= 9) return -1;
        text[n++] = to_upper(value[i]);
    }
    if (n != 9 || !is_upper(text[8])) return -1;
    if (text[0] == 'X' || text[0] == 'Y' || text[0] == 'Z') text[0] = (unsigned char)('0' + (text[0] - 'X'));
    if (!all_digits(text, 8)) return -1;
    long body = 0;
    for (int i = 0; i < 8; i++) body = body * 10 + (text[i] - '0');
    return (unsigned char)data.dni_letters[body % DNI_LETTERS] == text[8] ? 0 : -1;
}

static int nl_bsn_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[9];
    if (digits_of(value, length, number, 9) != 9 || one_digit(number, 9)) return -1;
    int total = -(number[8] - '0');
    for (int i = 0; i < 8; i++) total += (number[i] - '0') * (9 - i);
    return total % 11 == 0 ? 0 : -1;
}

static int pl_pesel_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char number[11];
    if (digits_of(value, length, number, 11) != 11 || one_digit(number, 11)) return -1;
    int month = number_at(number + 2, 2) % 20, day = number_at(number + 4, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31) return -1;
    static const int weights[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
    int total = 0;
    for (int i = 0; i < 10; i++) total += (number[i] - '0') * weights[i];
    return (10 - total % 10) % 10 == number[10] - '0' ? 0 : -1;
}

static int se_personnummer_classify(const unsigned char *value, Py_ssize_t length) {
    unsigned char text[12];
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (value[i] == '-' || value[i] == '+') continue;
        if (!is_digit(value[i]) || n >= 12) return -1;
        text[n++] = value[i];
    }
    if (n != 10 && n != 12) return -1;
    const unsigned char *shortened = text + (n - 10);
    int month = number_at(shortened + 2, 2), day = number_at(shortened + 4, 2) % 60;
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && luhn(shortened, 10) ? 0 : -1;
}

const NativeDetector FINANCIAL_DETECTORS[] = {
    {"card", card_classify, card_judge, card_refused},
    {"iban", iban_classify, NULL, NULL},
    {"aba", aba_classify, NULL, NULL},
    {"us_ssn", us_ssn_classify, NULL, NULL},
    {"us_itin", us_itin_classify, NULL, NULL},
    {"uk_nino", uk_nino_classify, NULL, NULL},
    {"uk_nhs", uk_nhs_classify, NULL, NULL},
    {"ca_sin", ca_sin_classify, NULL, NULL},
    {"au_tfn", au_tfn_classify, NULL, NULL},
    {"in_aadhaar", in_aadhaar_classify, aadhaar_judge, NULL},
    {"br_cpf", br_cpf_classify, NULL, NULL},
    {"es_dni", es_dni_classify, NULL, NULL},
    {"nl_bsn", nl_bsn_classify, NULL, NULL},
    {"pl_pesel", pl_pesel_classify, NULL, NULL},
    {"se_personnummer", se_personnummer_classify, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};
