/* The DLP engine's exact step in C (openai_casb.dlp._exactnative), for ASCII text.
 *
 * It does what engine.DlpEngine._match_detector and _validate do for one predefined detector over
 * a batch of segments: the detector's regex (the same pattern, on PCRE2, which backtracks as
 * Python's re does) is searched over the segments joined by newlines, each match is cut to
 * non-alphanumeric boundaries and validated, judged, given its confidence from keywords nearby
 * and appended to the caller's candidate list as the same tuple. Validators, judges and
 * population checks run in C where a family file has a twin (_exactnative.h), else in Python.
 * Only ASCII text comes here (engine_native.py checks): its characters are its bytes, so offsets
 * need no mapping and Python's character tests (isalnum, isdigit) are the ASCII ones.
 *
 * Built with the native search when the PCRE2 headers are installed (Debian: libpcre2-dev);
 * without it the engine runs the same step in Python (tests compare both on every detector).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "_exactnative.h"

#include <pcre2.h>
#include <string.h>

/* The keyword window of engine.KEYWORD_WINDOW, given by the engine at construction. */
enum { RANK_LOW = 0, RANK_MEDIUM = 1, RANK_HIGH = 2 };

typedef struct {
    PyObject *key;           /* str: Detector.key */
    PyObject *entries;       /* tuple of str: Detector.entries */
    unsigned char *enabled;  /* per entry: enabled by a profile */
    pcre2_code *regex;       /* the exact pattern (engine._exact_regex) */
    pcre2_match_data *match;
    pcre2_code *extend;      /* Detector.extend, or NULL */
    pcre2_match_data *extend_match;
    pcre2_code *keywords;    /* engine._keyword_regex, or NULL */
    pcre2_match_data *keywords_match;
    uint32_t value_group;
    Py_ssize_t max_length;
    unsigned char trim[256]; /* Detector.trim as a table; trim_any: any at all */
    int trim_any;
    int digits;              /* segment class "digits" */
    int base, threshold;
    int population;          /* financial.POPULATION_CHECKS has the detector */
    native_classify_fn classify;
    native_judge_fn judge;
    native_refused_fn refused;
    PyObject *py_classify;   /* Detector.classify */
    PyObject *py_judge;      /* Detector.judge or None */
    PyObject *py_refused;    /* the population check or None */
} ExactDetector;

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    ExactDetector *detectors;
    Py_ssize_t keyword_window;
    pcre2_match_context *context;
    pcre2_jit_stack *jit_stack;
    unsigned char *joined; /* scratch: segments joined by newlines */
    Py_ssize_t joined_capacity;
    Py_ssize_t *starts;    /* scratch: per segment, its start in `joined` and its offset to the text */
    Py_ssize_t *offsets;
    Py_ssize_t spans_capacity;
    /* A match in progress: the scratch above and each detector's match data are in use. A Python
     * validator called meanwhile may let another thread run, which must not share them. */
    int busy;
    int ready; /* constructed in full: match() refuses an object whose __init__ failed */
} Exact;

static int configured = 0;

static const NativeDetector *native_twin(const char *key) {
    const NativeDetector *tables[] = {FINANCIAL_DETECTORS, SECRET_DETECTORS};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const NativeDetector *d = tables[t]; d->key != NULL; d++)
            if (strcmp(d->key, key) == 0) return d;
    return NULL;
}

static inline int is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int all_digits(const unsigned char *s, Py_ssize_t n) {
    if (n <= 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_digit(s[i])) return 0;
    return 1;
}

/* --- compiled patterns ---------------------------------------------------------------------- */

static pcre2_code *compile_pattern(PyObject *pattern, uint32_t options, const char *what) {
    if (!PyBytes_Check(pattern)) {
        PyErr_Format(PyExc_TypeError, "%s is bytes", what);
        return NULL;
    }
    int error;
    PCRE2_SIZE offset;
    /* Python's newline is \n alone (`$`, `.`); a PCRE2 library may be built with another default. */
    pcre2_compile_context *context = pcre2_compile_context_create(NULL);
    if (context == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    pcre2_set_newline(context, PCRE2_NEWLINE_LF);
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)PyBytes_AS_STRING(pattern), (PCRE2_SIZE)PyBytes_GET_SIZE(pattern),
                                     options, &error, &offset, context);
    pcre2_compile_context_free(context);
    if (code == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        PyErr_Format(PyExc_ValueError, "PCRE2 refused %s at offset %zu: %s", what, (size_t)offset, (char *)message);
        return NULL;
    }
    /* Without JIT (an unsupported platform) PCRE2 interprets the same pattern, only slower. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

/* 1: a match (ovector in `data`); 0: none; -1: an error, raised. */
static int run(Exact *self, pcre2_code *code, pcre2_match_data *data, const unsigned char *subject, Py_ssize_t length,
               Py_ssize_t start, uint32_t options) {
    if (start > length) return 0;
    int rc = pcre2_match(code, subject, (PCRE2_SIZE)length, (PCRE2_SIZE)start, options, data, self->context);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof message);
    PyErr_Format(PyExc_RuntimeError, "the native exact step gave up on a text: %s", (char *)message);
    return -1;
}

/* --- construction --------------------------------------------------------------------------- */

static void free_detector(ExactDetector *d) {
    Py_XDECREF(d->key);
    Py_XDECREF(d->entries);
    Py_XDECREF(d->py_classify);
    Py_XDECREF(d->py_judge);
    Py_XDECREF(d->py_refused);
    PyMem_Free(d->enabled);
    if (d->match != NULL) pcre2_match_data_free(d->match);
    if (d->extend_match != NULL) pcre2_match_data_free(d->extend_match);
    if (d->keywords_match != NULL) pcre2_match_data_free(d->keywords_match);
    if (d->regex != NULL) pcre2_code_free(d->regex);
    if (d->extend != NULL) pcre2_code_free(d->extend);
    if (d->keywords != NULL) pcre2_code_free(d->keywords);
}

/* The Python callables an Exact holds (validators, judges) may hold it in turn (a closure over the
 * engine): the cycle collector must see them. */
static int Exact_traverse(Exact *self, visitproc visit, void *arg) {
    for (Py_ssize_t i = 0; self->detectors != NULL && i < self->count; i++) {
        Py_VISIT(self->detectors[i].py_classify);
        Py_VISIT(self->detectors[i].py_judge);
        Py_VISIT(self->detectors[i].py_refused);
    }
    return 0;
}

static int Exact_clear(Exact *self) {
    self->ready = 0; /* match() refuses from now on */
    for (Py_ssize_t i = 0; self->detectors != NULL && i < self->count; i++) {
        Py_CLEAR(self->detectors[i].py_classify);
        Py_CLEAR(self->detectors[i].py_judge);
        Py_CLEAR(self->detectors[i].py_refused);
    }
    return 0;
}

static void Exact_dealloc(Exact *self) {
    PyObject_GC_UnTrack((PyObject *)self);
    if (self->detectors != NULL) {
        for (Py_ssize_t i = 0; i < self->count; i++) free_detector(&self->detectors[i]);
        PyMem_Free(self->detectors);
    }
    if (self->context != NULL) pcre2_match_context_free(self->context);
    if (self->jit_stack != NULL) pcre2_jit_stack_free(self->jit_stack);
    PyMem_Free(self->joined);
    PyMem_Free(self->starts);
    PyMem_Free(self->offsets);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int init_detector(ExactDetector *d, PyObject *spec) {
    PyObject *key, *entries, *enabled, *pattern, *extend, *trim, *keywords, *py_classify, *py_judge, *py_refused;
    Py_ssize_t value_group, max_length;
    int digits, base, threshold;
    int twins; /* the detector is the built-in one of its key: its C twins may stand in for it */
    if (!PyArg_ParseTuple(spec, "UO!O!SnOnSpOiiOOOp", &key, &PyTuple_Type, &entries, &PyTuple_Type, &enabled, &pattern,
                          &value_group, &extend, &max_length, &trim, &digits, &keywords, &base, &threshold,
                          &py_classify, &py_judge, &py_refused, &twins))
        return -1;
    Py_INCREF(key);
    d->key = key;
    Py_INCREF(entries);
    d->entries = entries;
    Py_INCREF(py_classify);
    d->py_classify = py_classify;
    Py_INCREF(py_judge);
    d->py_judge = py_judge;
    Py_INCREF(py_refused);
    d->py_refused = py_refused;
    Py_ssize_t entry_count = PyTuple_GET_SIZE(entries);
    if (PyTuple_GET_SIZE(enabled) != entry_count || value_group < 0 || value_group > 9 || max_length < 1 ||
        max_length > PY_SSIZE_T_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "a detector spec does not hold together");
        return -1;
    }
    d->enabled = PyMem_Calloc((size_t)(entry_count ? entry_count : 1), 1);
    if (d->enabled == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < entry_count; i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(entries, i))) {
            PyErr_SetString(PyExc_TypeError, "entries are str");
            return -1;
        }
        int on = PyObject_IsTrue(PyTuple_GET_ITEM(enabled, i));
        if (on < 0) return -1;
        d->enabled[i] = (unsigned char)on;
    }
    d->value_group = (uint32_t)value_group;
    d->max_length = max_length;
    d->digits = digits;
    d->base = base;
    d->threshold = threshold;
    d->population = py_refused != Py_None;
    memset(d->trim, 0, sizeof d->trim);
    for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(trim); i++) {
        d->trim[(unsigned char)PyBytes_AS_STRING(trim)[i]] = 1;
        d->trim_any = 1;
    }
    /* Python's re: `$` also matches before a final newline, as PCRE2's default. */
    d->regex = compile_pattern(pattern, 0, "a detector's pattern");
    if (d->regex == NULL) return -1;
    /* The value group is read from the ovector, which holds the pattern's groups only. */
    uint32_t groups = 0;
    if (pcre2_pattern_info(d->regex, PCRE2_INFO_CAPTURECOUNT, &groups) != 0 || d->value_group > groups) {
        PyErr_SetString(PyExc_ValueError, "a detector's value group is not a group of its pattern");
        return -1;
    }
    d->match = pcre2_match_data_create_from_pattern(d->regex, NULL);
    if (extend != Py_None) {
        d->extend = compile_pattern(extend, 0, "a detector's extension");
        if (d->extend == NULL) return -1;
        d->extend_match = pcre2_match_data_create_from_pattern(d->extend, NULL);
    }
    if (keywords != Py_None) {
        /* RE2 (engine._keyword_regex): `$` is the end of the text only. */
        d->keywords = compile_pattern(keywords, PCRE2_DOLLAR_ENDONLY, "a detector's keywords");
        if (d->keywords == NULL) return -1;
        d->keywords_match = pcre2_match_data_create_from_pattern(d->keywords, NULL);
    }
    if (d->match == NULL || (d->extend != NULL && d->extend_match == NULL) ||
        (d->keywords != NULL && d->keywords_match == NULL)) {
        PyErr_NoMemory();
        return -1;
    }
    const char *key_text = PyUnicode_AsUTF8(key);
    if (key_text == NULL) return -1;
    const NativeDetector *twin = twins ? native_twin(key_text) : NULL;
    if (twin != NULL) {
        d->classify = twin->classify;
        d->judge = py_judge != Py_None ? twin->judge : NULL;
        d->refused = d->population ? twin->refused : NULL;
    }
    return 0;
}

static int Exact_init(Exact *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"specs", "keyword_window", NULL};
    PyObject *specs;
    Py_ssize_t keyword_window;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "On", keywords, &specs, &keyword_window)) return -1;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "_exactnative.configure() was not called");
        return -1;
    }
    if (self->detectors != NULL || self->context != NULL || keyword_window < 0 ||
        keyword_window > PY_SSIZE_T_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "an Exact is built once, with a keyword window of 0 or more");
        return -1;
    }
    PyObject *fast = PySequence_Fast(specs, "specs is a sequence");
    if (fast == NULL) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    self->keyword_window = keyword_window;
    self->detectors = PyMem_Calloc((size_t)(count ? count : 1), sizeof(ExactDetector));
    self->context = pcre2_match_context_create(NULL);
    /* Up to 1 MB of JIT stack: bounded lazy repeats of 8,000 (PEM bodies) need more than 32 KB. */
    self->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (self->detectors == NULL || self->context == NULL || self->jit_stack == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    pcre2_jit_stack_assign(self->context, NULL, self->jit_stack);
    for (Py_ssize_t i = 0; i < count; i++) {
        self->count = i + 1; /* what dealloc frees */
        if (init_detector(&self->detectors[i], PySequence_Fast_GET_ITEM(fast, i)) < 0) {
            Py_DECREF(fast);
            return -1;
        }
    }
    self->count = count;
    Py_DECREF(fast);
    self->ready = 1;
    return 0;
}

/* --- the exact step ------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *text;
    Py_ssize_t length;
    PyObject *text_object;
    PyObject *census; /* dict or NULL */
} Text;

/* pieces.in_decimal */
static int in_decimal(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    const unsigned char *s = t->text;
    if (start >= 2 && s[start - 1] == '.' && is_digit(s[start - 2]) && start < t->length && is_digit(s[start]))
        return 1;
    return end + 1 < t->length && s[end] == '.' && is_digit(s[end + 1]) && end >= 1 && is_digit(s[end - 1]);
}

static int holds(const unsigned char *s, Py_ssize_t start, Py_ssize_t end, unsigned char c) {
    return start < end && memchr(s + start, c, (size_t)(end - start)) != NULL;
}

/* pieces.continues */
static int continues(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    const unsigned char *s = t->text;
    if (in_decimal(t, start, end)) return 1;
    if (end + 1 < t->length) {
        unsigned char after = s[end];
        if ((after == ' ' || after == '.' || after == '-') && is_digit(s[end + 1]) && holds(s, start, end, after))
            return 1;
    }
    if (start >= 2) {
        unsigned char before = s[start - 1];
        if ((before == ' ' || before == '.' || before == '-') && is_digit(s[start - 2]) && holds(s, start, end, before))
            return 1;
    }
    return 0;
}

/* The entry index of a value, -1 refused, -2 an error raised. */
static int classify(ExactDetector *d, const Text *t, Py_ssize_t start, Py_ssize_t end) {
    if (d->classify != NULL) {
        int found = d->classify(t->text + start, end - start);
        if (found != NATIVE_ASK_PYTHON) { /* else the twin is unsure: Python decides, below */
            if (found >= PyTuple_GET_SIZE(d->entries)) {
                PyErr_Format(PyExc_ValueError, "detector %U classified a value into an entry it does not have", d->key);
                return -2;
            }
            return found < 0 ? -1 : found;
        }
    }
    PyObject *value = PyUnicode_FromStringAndSize((const char *)t->text + start, end - start);
    if (value == NULL) return -2;
    PyObject *entry = PyObject_CallOneArg(d->py_classify, value);
    Py_DECREF(value);
    if (entry == NULL) return -2;
    int found = -1;
    if (entry != Py_None) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(d->entries); i++) {
            int equal = PyUnicode_Compare(entry, PyTuple_GET_ITEM(d->entries, i)) == 0;
            if (equal) {
                found = (int)i;
                break;
            }
        }
        if (found < 0 && !PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "detector %U classified a value into an entry it does not have", d->key);
    }
    Py_DECREF(entry);
    return PyErr_Occurred() ? -2 : found;
}

/* 1 refused by its checksum only, 0 not, -1 an error raised. */
static int refused(ExactDetector *d, const Text *t, Py_ssize_t start, Py_ssize_t end) {
    if (d->refused != NULL) {
        int native = d->refused(t->text + start, end - start);
        if (native == 0 || native == 1) return native; /* else (NATIVE_ASK_PYTHON) Python decides, below */
    }
    PyObject *value = PyUnicode_FromStringAndSize((const char *)t->text + start, end - start);
    if (value == NULL) return -1;
    PyObject *answer = PyObject_CallOneArg(d->py_refused, value);
    Py_DECREF(value);
    if (answer == NULL) return -1;
    int truth = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return truth;
}

static int record_census(const Text *t, Py_ssize_t start, Py_ssize_t count, int passed) {
    PyObject *key = PyLong_FromSsize_t(start);
    PyObject *item = Py_BuildValue("(nO)", count, passed ? Py_True : Py_False);
    int rc = key != NULL && item != NULL ? PyDict_SetItem(t->census, key, item) : -1;
    Py_XDECREF(key);
    Py_XDECREF(item);
    return rc;
}

/* engine._validate: 1 with the value's end and entry set, 0 none, -1 an error raised. */
static int validate(ExactDetector *d, const Text *t, Py_ssize_t start, Py_ssize_t end, Py_ssize_t *value_end,
                    int *entry) {
    const unsigned char *s = t->text;
    if (start > 0 && (is_alnum(s[start - 1]) || (d->digits && s[start - 1] == '+'))) return 0;
    Py_ssize_t candidate_end = end;
    for (;;) {
        int bounded = candidate_end >= t->length || !is_alnum(s[candidate_end]);
        if (bounded && !(d->digits ? continues(t, start, candidate_end) : in_decimal(t, start, candidate_end))) {
            int found = classify(d, t, start, candidate_end);
            if (found == -2) return -1;
            if (d->population && t->census != NULL && all_digits(s + start, candidate_end - start)) {
                if (found >= 0) {
                    if (record_census(t, start, candidate_end - start, 1) < 0) return -1;
                } else {
                    int no = refused(d, t, start, candidate_end);
                    if (no < 0) return -1;
                    if (no && record_census(t, start, candidate_end - start, 0) < 0) return -1;
                }
            }
            if (found >= 0) {
                *value_end = candidate_end;
                *entry = found;
                return 1;
            }
        }
        if (!d->trim_any) return 0;
        candidate_end -= 1;
        while (candidate_end > start && !d->trim[s[candidate_end]]) candidate_end -= 1;
        if (candidate_end <= start) return 0;
    }
}

/* FORM_* of a validated value, -1 an error raised. */
static int judge(ExactDetector *d, const Text *t, Py_ssize_t start, Py_ssize_t end) {
    if (d->py_judge == Py_None) return FORM_NONE;
    if (d->judge != NULL) {
        int form = d->judge(t->text, t->length, start, end);
        if (form != NATIVE_ASK_PYTHON) return form; /* else the twin is unsure: Python decides, below */
    }
    PyObject *form = PyObject_CallFunction(d->py_judge, "Onn", t->text_object, start, end);
    if (form == NULL) return -1;
    int result = -1;
    if (form == Py_None)
        result = FORM_NONE;
    else if (PyUnicode_Check(form)) {
        if (PyUnicode_CompareWithASCIIString(form, "reject") == 0)
            result = FORM_REJECT;
        else if (PyUnicode_CompareWithASCIIString(form, "weak") == 0)
            result = FORM_WEAK;
        else if (PyUnicode_CompareWithASCIIString(form, "sample") == 0)
            result = FORM_SAMPLE;
    }
    if (result < 0) PyErr_Format(PyExc_ValueError, "detector %U judged a value with an unknown form", d->key);
    Py_DECREF(form);
    return result;
}

/* A keyword in text[low:high] (clamped); 1, 0, or -1 an error raised. */
static int keyword_in(Exact *self, ExactDetector *d, const Text *t, Py_ssize_t low, Py_ssize_t high) {
    if (high > t->length) high = t->length;
    if (low < 0) low = 0;
    if (high < low) high = low;
    return run(self, d->keywords, d->keywords_match, t->text + low, high - low, 0, 0);
}

/* engine._keyword_on_line */
static int keyword_on_line(Exact *self, ExactDetector *d, const Text *t, Py_ssize_t start, Py_ssize_t end) {
    const unsigned char *s = t->text;
    Py_ssize_t low = start - self->keyword_window > 0 ? start - self->keyword_window : 0;
    Py_ssize_t high = end + self->keyword_window;
    Py_ssize_t before = -1, after = -1;
    for (Py_ssize_t i = start - 1; i >= low; i--)
        if (s[i] == '\n') {
            before = i;
            break;
        }
    Py_ssize_t limit = high < t->length ? high : t->length;
    for (Py_ssize_t i = end; i < limit; i++)
        if (s[i] == '\n') {
            after = i;
            break;
        }
    return keyword_in(self, d, t, before >= 0 ? before + 1 : low, after >= 0 ? after : high);
}

static int join_spans(Exact *self, const Text *t, PyObject *spans, const unsigned char **joined, Py_ssize_t *length,
                      Py_ssize_t *count) {
    Py_ssize_t n = PyList_GET_SIZE(spans);
    Py_ssize_t total = 0;
    if (n > self->spans_capacity) {
        Py_ssize_t *starts = PyMem_Realloc(self->starts, (size_t)n * sizeof(Py_ssize_t));
        if (starts == NULL) return PyErr_NoMemory(), -1;
        self->starts = starts;
        Py_ssize_t *offsets = PyMem_Realloc(self->offsets, (size_t)n * sizeof(Py_ssize_t));
        if (offsets == NULL) return PyErr_NoMemory(), -1;
        self->offsets = offsets;
        self->spans_capacity = n;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t start, end;
        /* Reading a bound may run Python code (__index__) that changes the list: each span is held
         * while it is read, and the list's size checked again before each one. */
        if (i >= PyList_GET_SIZE(spans)) {
            PyErr_SetString(PyExc_RuntimeError, "the spans list changed while it was read");
            return -1;
        }
        PyObject *span = PyList_GET_ITEM(spans, i);
        Py_INCREF(span);
        int parsed = PyTuple_Check(span) && PyArg_ParseTuple(span, "nn", &start, &end);
        Py_DECREF(span);
        if (!parsed) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a span is a (start, end) tuple");
            return -1;
        }
        if (start < 0 || end < start || end > t->length) {
            PyErr_SetString(PyExc_ValueError, "a span lies outside the text");
            return -1;
        }
        self->starts[i] = total;
        self->offsets[i] = start - total;
        total += end - start + 1;
    }
    *count = n;
    /* engine.Batch: one span over the whole text is the text itself. */
    if (n == 1 && self->offsets[0] == 0 && total - 1 == t->length) {
        *joined = t->text;
        *length = t->length;
        return 0;
    }
    if (total > self->joined_capacity) {
        unsigned char *buffer = PyMem_Realloc(self->joined, (size_t)total);
        if (buffer == NULL) return PyErr_NoMemory(), -1;
        self->joined = buffer;
        self->joined_capacity = total;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t start = self->starts[i] + self->offsets[i];
        Py_ssize_t next = i + 1 < n ? self->starts[i + 1] : total;
        Py_ssize_t size = next - 1 - self->starts[i];
        memcpy(self->joined + self->starts[i], t->text + start, (size_t)size);
        if (i + 1 < n) self->joined[next - 1] = '\n';
    }
    *joined = self->joined;
    *length = total > 0 ? total - 1 : 0;
    return 0;
}

/* Batch.offset_at: the offset of the segment holding joined position `position`. */
static Py_ssize_t offset_at(const Exact *self, Py_ssize_t count, Py_ssize_t position) {
    Py_ssize_t low = 0, high = count; /* first start > position */
    while (low < high) {
        Py_ssize_t middle = low + (high - low) / 2;
        if (self->starts[middle] <= position)
            low = middle + 1;
        else
            high = middle;
    }
    return self->offsets[low > 0 ? low - 1 : 0];
}

static int append_candidate(PyObject *found, ExactDetector *d, long order, Py_ssize_t start, Py_ssize_t end, int entry,
                            int rank, Py_ssize_t stratum) {
    PyObject *item = Py_BuildValue("(nnlOiOn)", start, end, order, PyTuple_GET_ITEM(d->entries, entry), rank, Py_None,
                                   stratum);
    if (item == NULL) return -1;
    int rc = PyList_Append(found, item);
    Py_DECREF(item);
    return rc;
}

static PyObject *match_detector(Exact *self, Py_ssize_t local, long order, PyObject *text_object, PyObject *spans,
                                PyObject *found, PyObject *census);

static PyObject *Exact_match(Exact *self, PyObject *args) {
    Py_ssize_t local;
    long order;
    PyObject *text_object, *spans, *found, *census;
    if (!PyArg_ParseTuple(args, "nlUO!O!O", &local, &order, &text_object, &PyList_Type, &spans, &PyList_Type, &found,
                          &census))
        return NULL;
    if (!self->ready) {
        PyErr_SetString(PyExc_ValueError, "this Exact was not constructed");
        return NULL;
    }
    if (local < 0 || local >= self->count) {
        PyErr_SetString(PyExc_IndexError, "no such detector");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text_object)) {
        PyErr_SetString(PyExc_ValueError, "the native exact step takes ASCII text only");
        return NULL;
    }
    if (census != Py_None && !PyDict_Check(census)) {
        PyErr_SetString(PyExc_TypeError, "census is a dict");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the native exact step is busy in another thread");
        return NULL;
    }
    self->busy = 1;
    PyObject *result = match_detector(self, local, order, text_object, spans, found, census);
    self->busy = 0;
    return result;
}

static PyObject *match_detector(Exact *self, Py_ssize_t local, long order, PyObject *text_object, PyObject *spans,
                                PyObject *found, PyObject *census) {
    ExactDetector *d = &self->detectors[local];
    Text t = {PyUnicode_1BYTE_DATA(text_object), PyUnicode_GET_LENGTH(text_object), text_object,
              d->population && census != Py_None ? census : NULL};
    const unsigned char *joined;
    Py_ssize_t joined_length, span_count;
    if (join_spans(self, &t, spans, &joined, &joined_length, &span_count) < 0) return NULL;
    if (span_count == 0) Py_RETURN_NONE;
    Py_ssize_t position = 0;
    for (;;) {
        int hit = run(self, d->regex, d->match, joined, joined_length, position, 0);
        if (hit < 0) return NULL;
        if (hit == 0) break;
        PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(d->match);
        Py_ssize_t match_start = (Py_ssize_t)ovector[0], match_end = (Py_ssize_t)ovector[1];
        position = match_start + 1;
        if (ovector[2 * d->value_group] == PCRE2_UNSET) continue;
        Py_ssize_t value_start = (Py_ssize_t)ovector[2 * d->value_group];
        Py_ssize_t value_end = (Py_ssize_t)ovector[2 * d->value_group + 1];
        Py_ssize_t offset = offset_at(self, span_count, value_start);
        value_start += offset;
        value_end += offset;
        if (d->extend != NULL) {
            Py_ssize_t limit = value_start + d->max_length < t.length ? value_start + d->max_length : t.length;
            int tail = run(self, d->extend, d->extend_match, t.text, limit, value_end, PCRE2_ANCHORED);
            if (tail < 0) return NULL;
            if (tail == 0) continue;
            value_end = (Py_ssize_t)pcre2_get_ovector_pointer(d->extend_match)[1];
        }
        int entry;
        int valid = validate(d, &t, value_start, value_end, &value_end, &entry);
        if (valid < 0) return NULL;
        if (valid == 0) continue;
        Py_ssize_t resume = match_end < value_end - offset ? match_end : value_end - offset;
        if (resume > position) position = resume;
        if (!d->enabled[entry]) continue;
        int rank = d->base;
        int form = judge(d, &t, value_start, value_end);
        if (form < 0) return NULL;
        if (form == FORM_REJECT) continue;
        if (form != FORM_NONE) rank = RANK_LOW;
        if (d->keywords != NULL && form != FORM_SAMPLE && rank < RANK_HIGH) {
            int near = keyword_in(self, d, &t, value_start - self->keyword_window, value_end + self->keyword_window);
            if (near < 0) return NULL;
            if (near) rank = RANK_HIGH;
        }
        Py_ssize_t stratum = 0;
        if (d->population && form == FORM_NONE && all_digits(t.text + value_start, value_end - value_start)) {
            int bare = rank == d->base;
            if (!bare && d->keywords != NULL) {
                int on_line = keyword_on_line(self, d, &t, value_start, value_end);
                if (on_line < 0) return NULL;
                bare = !on_line;
            }
            if (bare) stratum = value_end - value_start;
        }
        if (rank >= d->threshold && append_candidate(found, d, order, value_start, value_end, entry, rank, stratum) < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* --- module functions for the differential tests ------------------------------------------- */

static const NativeDetector *twin_of(PyObject *key) {
    const char *text = PyUnicode_AsUTF8(key);
    if (text == NULL) return NULL;
    const NativeDetector *twin = native_twin(text);
    if (twin == NULL) PyErr_Format(PyExc_KeyError, "no native twin for detector %U", key);
    return twin;
}

static int ascii_bytes(PyObject *value, const unsigned char **data, Py_ssize_t *length) {
    if (!PyUnicode_Check(value) || !PyUnicode_IS_ASCII(value)) {
        PyErr_SetString(PyExc_ValueError, "native validators take ASCII str");
        return -1;
    }
    *data = PyUnicode_1BYTE_DATA(value);
    *length = PyUnicode_GET_LENGTH(value);
    return 0;
}

/* The test functions' call: (key, value) or, for judge, (key, text, start, end); an ASCII text, the detector's twin
   and the part asked for present in it. */
enum twin_part { PART_CLASSIFY, PART_JUDGE, PART_REFUSED };

typedef struct {
    const NativeDetector *twin;
    const unsigned char *data;
    Py_ssize_t length, start, end;
} TwinCall;

static int twin_call(PyObject *args, enum twin_part part, TwinCall *call) {
    static const char *const part_names[] = {"classify", "judge", "population check"};
    PyObject *key, *text;
    int parsed = part == PART_JUDGE ? PyArg_ParseTuple(args, "UUnn", &key, &text, &call->start, &call->end)
                                    : PyArg_ParseTuple(args, "UU", &key, &text);
    if (!parsed || ascii_bytes(text, &call->data, &call->length) < 0) return -1;
    if (part == PART_JUDGE && (call->start < 0 || call->end < call->start || call->end > call->length)) {
        PyErr_SetString(PyExc_ValueError, "span outside the text");
        return -1;
    }
    call->twin = twin_of(key);
    if (call->twin == NULL) return -1;
    int present = part == PART_CLASSIFY ? call->twin->classify != NULL
                  : part == PART_JUDGE  ? call->twin->judge != NULL
                                        : call->twin->refused != NULL;
    if (!present) {
        PyErr_Format(PyExc_KeyError, "no native %s for %U", part_names[part], key);
        return -1;
    }
    return 0;
}

static PyObject *native_classify(PyObject *module, PyObject *args) {
    (void)module;
    TwinCall call;
    if (twin_call(args, PART_CLASSIFY, &call) < 0) return NULL;
    return PyLong_FromLong(call.twin->classify(call.data, call.length));
}

static PyObject *native_judge(PyObject *module, PyObject *args) {
    (void)module;
    TwinCall call;
    if (twin_call(args, PART_JUDGE, &call) < 0) return NULL;
    return PyLong_FromLong(call.twin->judge(call.data, call.length, call.start, call.end));
}

static PyObject *native_refused(PyObject *module, PyObject *args) {
    (void)module;
    TwinCall call;
    if (twin_call(args, PART_REFUSED, &call) < 0) return NULL;
    return PyBool_FromLong(call.twin->refused(call.data, call.length));
}

static PyObject *native_parts(PyObject *module, PyObject *args) {
    (void)module;
    (void)args;
    PyObject *parts = PyDict_New();
    if (parts == NULL) return NULL;
    const NativeDetector *tables[] = {FINANCIAL_DETECTORS, SECRET_DETECTORS};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const NativeDetector *d = tables[t]; d->key != NULL; d++) {
            PyObject *item = Py_BuildValue("(OOO)", d->classify ? Py_True : Py_False, d->judge ? Py_True : Py_False,
                                           d->refused ? Py_True : Py_False);
            if (item == NULL || PyDict_SetItemString(parts, d->key, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(parts);
                return NULL;
            }
            Py_DECREF(item);
        }
    return parts;
}

static PyObject *native_configure(PyObject *module, PyObject *tables) {
    (void)module;
    if (!PyDict_Check(tables)) return PyErr_Format(PyExc_TypeError, "configure() takes a dict");
    if (financial_configure(tables) < 0 || secrets_configure(tables) < 0) return NULL;
    configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef Exact_methods[] = {
    {"match", (PyCFunction)Exact_match, METH_VARARGS,
     "match(local, order, text, spans, found, census): the exact step of one detector over a batch."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ExactType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "openai_casb.dlp._exactnative.Exact",
    .tp_basicsize = sizeof(Exact),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Exact_traverse,
    .tp_clear = (inquiry)Exact_clear,
    .tp_doc = "The exact step of predefined detectors over ASCII text.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Exact_init,
    .tp_dealloc = (destructor)Exact_dealloc,
    .tp_methods = Exact_methods,
};

static PyMethodDef module_methods[] = {
    {"configure", native_configure, METH_O, "configure(tables): data the native validators read (once)."},
    {"parts", native_parts, METH_NOARGS, "parts(): detector key -> (classify, judge, population check) in C."},
    {"classify", native_classify, METH_VARARGS, "classify(key, value) -> entry index or -1 (tests)."},
    {"judge", native_judge, METH_VARARGS, "judge(key, text, start, end) -> FORM_* (tests)."},
    {"refused", native_refused, METH_VARARGS, "refused(key, value) -> bool (tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_exactnative",
    .m_doc = "The DLP engine's exact step in C (PCRE2).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__exactnative(void) {
    if (PyType_Ready(&ExactType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_definition);
    if (module == NULL) return NULL;
    Py_INCREF(&ExactType);
    if (PyModule_AddObject(module, "Exact", (PyObject *)&ExactType) < 0 ||
        PyModule_AddIntConstant(module, "FORM_NONE", FORM_NONE) < 0 ||
        PyModule_AddIntConstant(module, "FORM_REJECT", FORM_REJECT) < 0 ||
        PyModule_AddIntConstant(module, "FORM_WEAK", FORM_WEAK) < 0 ||
        PyModule_AddIntConstant(module, "FORM_SAMPLE", FORM_SAMPLE) < 0) {
        Py_DECREF(&ExactType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
