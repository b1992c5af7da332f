/* The DLP engine's segment search on Hyperscan's C API (openai_casb.dlp._hsnative).
 *
 * It does what detectors/search.py's HyperscanSearch and _Collector do, without a Python call
 * per match: Hyperscan reports each match to a C handler, which grows the match's segment (the
 * maximal run of its class around the match's last character) and records it once per class or
 * per detector. Where a Python handler costs about as much as the scan itself, this is what lets
 * the digit class be searched by a cheap superset expression: each new segment it finds is then
 * confirmed by the exact aligned union, scanned inside that segment only.
 *
 * Built when the Hyperscan headers are installed (Debian: libhyperscan-dev); without it the
 * engine uses the Python binding (the `hyperscan` package) and gives the same segments (tested).
 * The GIL is held throughout: a Scanner owns one scratch space per database.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <string.h>
#include <hs.h>

enum { KIND_ALPHABET = 0, KIND_CHAIN = 1, KIND_LINE = 2, KIND_ALL = 3, KIND_WINDOW = 4 };

typedef struct {
    int kind;
    unsigned char member[256]; /* alphabet: in the class; chain: a core character */
    unsigned char joiner[256]; /* chain: a separator, in the chain only before a core character */
    hs_database_t *confirm;    /* the exact expression a new segment must hold, or NULL */
    PyObject *name;            /* str */
    Py_ssize_t back, forward;  /* window: the segment around a hit's end */
} SegmentClass;

typedef struct {
    PyObject_HEAD
    hs_database_t *database;
    hs_scratch_t *scratch;
    hs_scratch_t *confirm_scratch;
    Py_ssize_t class_count;
    SegmentClass *classes;
    Py_ssize_t report_count;
    int *report_class;
    long *report_detector; /* -1: a class union, every detector of the class runs */
    long detector_count;   /* one more than the largest detector index */
} Scanner;

typedef struct {
    Scanner *scanner;
    const unsigned char *data;
    Py_ssize_t length;
    Py_ssize_t *class_span;    /* per class: start, end of the last segment; start -1: none */
    Py_ssize_t *detector_span; /* per detector: start, end of the last segment recorded */
    PyObject *by_class;
    PyObject *by_detector;
    int failed;
} ScanContext;

static void free_scanner_parts(Scanner *self) {
    if (self->classes != NULL) {
        for (Py_ssize_t i = 0; i < self->class_count; i++) {
            if (self->classes[i].confirm != NULL) hs_free_database(self->classes[i].confirm);
            Py_XDECREF(self->classes[i].name);
        }
        PyMem_Free(self->classes);
        self->classes = NULL;
    }
    if (self->database != NULL) hs_free_database(self->database);
    if (self->scratch != NULL) hs_free_scratch(self->scratch);
    if (self->confirm_scratch != NULL) hs_free_scratch(self->confirm_scratch);
    self->database = NULL;
    self->scratch = NULL;
    self->confirm_scratch = NULL;
    PyMem_Free(self->report_class);
    PyMem_Free(self->report_detector);
    self->report_class = NULL;
    self->report_detector = NULL;
}

static void Scanner_dealloc(Scanner *self) {
    free_scanner_parts(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int raise_compile_error(hs_compile_error_t *error, const char *what) {
    PyErr_Format(PyExc_ValueError, "hyperscan refused %s: %s (expression %d)", what,
                 error != NULL && error->message != NULL ? error->message : "unknown error",
                 error != NULL ? error->expression : -1);
    if (error != NULL) hs_free_compile_error(error);
    return -1;
}

static int copy_table(PyObject *table, unsigned char out[256]) {
    if (!PyBytes_Check(table) || PyBytes_GET_SIZE(table) != 256) {
        PyErr_SetString(PyExc_TypeError, "a class table is 256 bytes");
        return -1;
    }
    memcpy(out, PyBytes_AS_STRING(table), 256);
    return 0;
}

static int init_classes(Scanner *self, PyObject *classes) {
    self->class_count = PySequence_Fast_GET_SIZE(classes);
    self->classes = PyMem_Calloc((size_t)(self->class_count ? self->class_count : 1), sizeof(SegmentClass));
    if (self->classes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->class_count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(classes, i);
        PyObject *name, *member, *joiner, *confirm;
        int kind;
        Py_ssize_t back, forward;
        if (!PyArg_ParseTuple(item, "UiSSOnn", &name, &kind, &member, &joiner, &confirm, &back, &forward)) return -1;
        SegmentClass *segment_class = &self->classes[i];
        if (kind < KIND_ALPHABET || kind > KIND_WINDOW || back < 0 || forward < 0) {
            PyErr_SetString(PyExc_ValueError, "unknown class kind");
            return -1;
        }
        segment_class->kind = kind;
        segment_class->back = back;
        segment_class->forward = forward;
        Py_INCREF(name);
        segment_class->name = name;
        if (copy_table(member, segment_class->member) < 0 || copy_table(joiner, segment_class->joiner) < 0) return -1;
        if (confirm != Py_None) {
            if (!PyBytes_Check(confirm)) {
                PyErr_SetString(PyExc_TypeError, "a confirming expression is bytes or None");
                return -1;
            }
            hs_compile_error_t *error = NULL;
            if (hs_compile(PyBytes_AS_STRING(confirm), 0, HS_MODE_BLOCK, NULL, &segment_class->confirm, &error) !=
                HS_SUCCESS)
                return raise_compile_error(error, "a confirming expression");
            if (hs_alloc_scratch(segment_class->confirm, &self->confirm_scratch) != HS_SUCCESS) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    return 0;
}

static int init_database(Scanner *self, PyObject *expressions, PyObject *reports) {
    Py_ssize_t count = PySequence_Fast_GET_SIZE(expressions);
    if (count != PySequence_Fast_GET_SIZE(reports)) {
        PyErr_SetString(PyExc_ValueError, "one report per expression");
        return -1;
    }
    self->report_count = count;
    self->report_class = PyMem_Calloc((size_t)(count ? count : 1), sizeof(int));
    self->report_detector = PyMem_Calloc((size_t)(count ? count : 1), sizeof(long));
    const char **patterns = PyMem_Calloc((size_t)(count ? count : 1), sizeof(char *));
    unsigned int *ids = PyMem_Calloc((size_t)(count ? count : 1), sizeof(unsigned int));
    unsigned int *flags = PyMem_Calloc((size_t)(count ? count : 1), sizeof(unsigned int));
    int result = -1;
    if (self->report_class == NULL || self->report_detector == NULL || patterns == NULL || ids == NULL ||
        flags == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    self->detector_count = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *expression = PySequence_Fast_GET_ITEM(expressions, i);
        int segment_class;
        long detector;
        if (!PyBytes_Check(expression)) {
            PyErr_SetString(PyExc_TypeError, "expressions are bytes");
            goto done;
        }
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(reports, i), "il", &segment_class, &detector)) goto done;
        if (segment_class < 0 || segment_class >= self->class_count || detector < -1) {
            PyErr_SetString(PyExc_ValueError, "a report names an unknown class or detector");
            goto done;
        }
        patterns[i] = PyBytes_AS_STRING(expression);
        ids[i] = (unsigned int)i;
        self->report_class[i] = segment_class;
        self->report_detector[i] = detector;
        if (detector + 1 > self->detector_count) self->detector_count = detector + 1;
    }
    if (count > 0) {
        hs_compile_error_t *error = NULL;
        if (hs_compile_multi(patterns, flags, ids, (unsigned int)count, HS_MODE_BLOCK, NULL, &self->database,
                             &error) != HS_SUCCESS) {
            raise_compile_error(error, "an expression");
            goto done;
        }
        if (hs_alloc_scratch(self->database, &self->scratch) != HS_SUCCESS) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = 0;
done:
    PyMem_Free(patterns);
    PyMem_Free(ids);
    PyMem_Free(flags);
    return result;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"expressions", "reports", "classes", NULL};
    PyObject *expressions, *reports, *classes;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO", keywords, &expressions, &reports, &classes)) return -1;
    free_scanner_parts(self);
    PyObject *expression_list = PySequence_Fast(expressions, "expressions must be a sequence");
    PyObject *report_list = PySequence_Fast(reports, "reports must be a sequence");
    PyObject *class_list = PySequence_Fast(classes, "classes must be a sequence");
    int result = -1;
    if (expression_list != NULL && report_list != NULL && class_list != NULL && init_classes(self, class_list) == 0 &&
        init_database(self, expression_list, report_list) == 0)
        result = 0;
    Py_XDECREF(expression_list);
    Py_XDECREF(report_list);
    Py_XDECREF(class_list);
    if (result < 0) free_scanner_parts(self);
    return result;
}

/* The segment around `position`, exactly as search.py's _Collector._around finds it. */
static void segment_around(const SegmentClass *segment_class, const unsigned char *data, Py_ssize_t length,
                           Py_ssize_t position, Py_ssize_t *start, Py_ssize_t *end) {
    Py_ssize_t i;
    switch (segment_class->kind) {
    case KIND_ALL:
        *start = 0;
        *end = length;
        return;
    case KIND_LINE: {
        const unsigned char *newline = memchr(data + position, '\n', (size_t)(length - position));
        *end = newline != NULL ? newline - data : length;
        for (i = position - 1; i >= 0 && data[i] != '\n'; i--) {
        }
        *start = i + 1;
        return;
    }
    case KIND_ALPHABET:
        for (i = position; i < length && segment_class->member[data[i]]; i++) {
        }
        *end = i;
        for (i = position; i >= 0 && segment_class->member[data[i]]; i--) {
        }
        *start = i + 1;
        return;
    default: /* KIND_CHAIN: core characters joined by single separators */
        for (i = position; i < length; i++) {
            if (segment_class->member[data[i]]) continue;
            if (segment_class->joiner[data[i]] && i + 1 < length && segment_class->member[data[i + 1]]) continue;
            break;
        }
        *end = i;
        for (i = position; i >= 0; i--) {
            if (segment_class->member[data[i]]) continue;
            if (segment_class->joiner[data[i]] && i > 0 && segment_class->member[data[i - 1]]) continue;
            break;
        }
        *start = i + 1;
        return;
    }
}

static int stop_at_first(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                         void *found) {
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(int *)found = 1;
    return 1;
}

/* Whether the class's exact expression matches inside [start, end), with the character before
 * `start` as its left context (as Python's `search(data, start - 1, end)`). Any `^` of the
 * expression can only match at the text's start: a segment's first character is a core one and
 * the character before it is not, so a match anchored on the window's start cannot exist there. */
static int confirmed(Scanner *self, const SegmentClass *segment_class, const unsigned char *data, Py_ssize_t start,
                     Py_ssize_t end) {
    Py_ssize_t low = start > 0 ? start - 1 : 0;
    int found = 0;
    if (end <= low) return 0;
    hs_scan(segment_class->confirm, (const char *)data + low, (unsigned int)(end - low), 0, self->confirm_scratch,
            stop_at_first, &found);
    return found;
}

static int append_span(PyObject *mapping, PyObject *key, Py_ssize_t start, Py_ssize_t end) {
    PyObject *spans = PyDict_GetItemWithError(mapping, key);
    if (spans == NULL) {
        if (PyErr_Occurred()) return -1;
        spans = PyList_New(0);
        if (spans == NULL) return -1;
        int stored = PyDict_SetItem(mapping, key, spans);
        Py_DECREF(spans); /* the dict holds it */
        if (stored < 0) return -1;
    }
    PyObject *span = Py_BuildValue("(nn)", start, end);
    if (span == NULL) return -1;
    int appended = PyList_Append(spans, span);
    Py_DECREF(span);
    return appended;
}

/* A window hit: its window, merged into the last span of its list where they overlap or touch
 * (hits come in end order), as search.py's _Collector._window_hit does. */
static int window_hit(ScanContext *scan, const SegmentClass *segment_class, long detector, Py_ssize_t position) {
    Py_ssize_t start = position + 1 - segment_class->back, end = position + 1 + segment_class->forward;
    if (start < 0) start = 0;
    if (end > scan->length) end = scan->length;
    PyObject *key = detector < 0 ? segment_class->name : PyLong_FromLong(detector);
    if (key == NULL) return -1;
    PyObject *mapping = detector < 0 ? scan->by_class : scan->by_detector;
    PyObject *spans = PyDict_GetItemWithError(mapping, key);
    int result = -1;
    if (spans == NULL && PyErr_Occurred()) goto done;
    Py_ssize_t count = spans != NULL ? PyList_GET_SIZE(spans) : 0;
    if (count > 0) {
        PyObject *last = PyList_GET_ITEM(spans, count - 1);
        Py_ssize_t last_start = PyLong_AsSsize_t(PyTuple_GET_ITEM(last, 0));
        Py_ssize_t last_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(last, 1));
        if (start <= last_end) {
            PyObject *merged = Py_BuildValue("(nn)", last_start, end > last_end ? end : last_end);
            if (merged == NULL) goto done;
            PyList_SET_ITEM(spans, count - 1, merged); /* steals `merged` */
            Py_DECREF(last);
            result = 0;
            goto done;
        }
    }
    result = append_span(mapping, key, start, end);
done:
    if (detector >= 0) Py_DECREF(key);
    return result;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                    void *context) {
    (void)from;
    (void)flags;
    ScanContext *scan = context;
    Scanner *self = scan->scanner;
    int class_index = self->report_class[id];
    long detector = self->report_detector[id];
    const SegmentClass *segment_class = &self->classes[class_index];
    Py_ssize_t position = (Py_ssize_t)to - 1;
    if (segment_class->kind == KIND_WINDOW) {
        if (window_hit(scan, segment_class, detector, position) < 0) goto fail;
        return 0;
    }
    Py_ssize_t start = scan->class_span[2 * class_index], end = scan->class_span[2 * class_index + 1];
    if (start < 0 || !(start <= position && position < end)) {
        segment_around(segment_class, scan->data, scan->length, position, &start, &end);
        scan->class_span[2 * class_index] = start;
        scan->class_span[2 * class_index + 1] = end;
        if (detector < 0 && (segment_class->confirm == NULL || confirmed(self, segment_class, scan->data, start, end))) {
            if (append_span(scan->by_class, segment_class->name, start, end) < 0) goto fail;
        }
    }
    if (detector >= 0 && (scan->detector_span[2 * detector] != start || scan->detector_span[2 * detector + 1] != end)) {
        scan->detector_span[2 * detector] = start;
        scan->detector_span[2 * detector + 1] = end;
        PyObject *key = PyLong_FromLong(detector);
        if (key == NULL) goto fail;
        int appended = append_span(scan->by_detector, key, start, end);
        Py_DECREF(key);
        if (appended < 0) goto fail;
    }
    return 0;
fail:
    scan->failed = 1;
    return 1;
}

static PyObject *Scanner_segments(Scanner *self, PyObject *args) {
    Py_buffer buffer;
    PyObject *data;
    if (!PyArg_ParseTuple(args, "O", &data)) return NULL;
    if (PyUnicode_Check(data)) {
        /* ASCII text is its own encoding (one byte per character): scanned in place, not copied. */
        if (!PyUnicode_IS_ASCII(data)) {
            PyErr_SetString(PyExc_ValueError, "a str to scan must be ASCII; encode other text first");
            return NULL;
        }
        if (PyBuffer_FillInfo(&buffer, data, PyUnicode_1BYTE_DATA(data), PyUnicode_GET_LENGTH(data), 1, PyBUF_SIMPLE) < 0)
            return NULL;
    } else if (PyObject_GetBuffer(data, &buffer, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    ScanContext scan = {self, buffer.buf, buffer.len, NULL, NULL, PyDict_New(), PyDict_New(), 0};
    if (scan.by_class == NULL || scan.by_detector == NULL) goto done;
    if (buffer.len > (Py_ssize_t)UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "text too long for one scan (4 GiB)");
        goto done;
    }
    if (self->database != NULL && buffer.len > 0) {
        scan.class_span = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)(self->class_count ? self->class_count : 1));
        scan.detector_span =
            PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)(self->detector_count ? self->detector_count : 1));
        if (scan.class_span == NULL || scan.detector_span == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < 2 * self->class_count; i++) scan.class_span[i] = -1;
        for (long i = 0; i < 2 * self->detector_count; i++) scan.detector_span[i] = -1;
        hs_error_t error =
            hs_scan(self->database, buffer.buf, (unsigned int)buffer.len, 0, self->scratch, on_match, &scan);
        if (scan.failed) goto done;
        if (error != HS_SUCCESS) {
            PyErr_Format(PyExc_RuntimeError, "hyperscan scan failed (error %d)", (int)error);
            goto done;
        }
    }
    result = Py_BuildValue("(OO)", scan.by_class, scan.by_detector);
done:
    PyMem_Free(scan.class_span);
    PyMem_Free(scan.detector_span);
    Py_XDECREF(scan.by_class);
    Py_XDECREF(scan.by_detector);
    PyBuffer_Release(&buffer);
    return result;
}

static PyMethodDef Scanner_methods[] = {
    {"segments", (PyCFunction)Scanner_segments, METH_VARARGS,
     "segments(data) -> (by_class, by_detector): the segments holding a hit, as search.Segments holds them; "
     "data is bytes or an ASCII str."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "openai_casb.dlp._hsnative.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scanner(expressions, reports, classes): one Hyperscan block-mode database and its segment rules.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef hsnative_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_hsnative",
    .m_doc = "The DLP segment search on Hyperscan's C API.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__hsnative(void) {
    if (hs_valid_platform() != HS_SUCCESS) {
        PyErr_SetString(PyExc_ImportError, "this CPU lacks the instructions Hyperscan needs (SSSE3)");
        return NULL;
    }
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *module = PyModule_Create(&hsnative_module);
    if (module == NULL) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(module, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddIntConstant(module, "KIND_ALPHABET", KIND_ALPHABET) < 0 ||
        PyModule_AddIntConstant(module, "KIND_CHAIN", KIND_CHAIN) < 0 ||
        PyModule_AddIntConstant(module, "KIND_LINE", KIND_LINE) < 0 ||
        PyModule_AddIntConstant(module, "KIND_ALL", KIND_ALL) < 0 ||
        PyModule_AddIntConstant(module, "KIND_WINDOW", KIND_WINDOW) < 0 ||
        PyModule_AddStringConstant(module, "HYPERSCAN_VERSION", hs_version()) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
