/* What the exact step's C module (_exactnative.c) asks of native validators and judges.
 *
 * A family file (_native_financial.c, _native_secrets.c) ports the Python classify, judge and
 * population check of some predefined detectors, keyed by Detector.key. Each must answer exactly
 * as its Python twin for every ASCII input (differential tests: tests/dlp/test_native_exact.py);
 * a detector or part without a native twin is called in Python by the core, so a family may
 * cover a detector in part. Data (brand ranges, IBAN layouts, published examples) is not copied
 * into C: `configure` receives it from the Python modules that own it.
 */
#ifndef OPENAI_CASB_EXACTNATIVE_H
#define OPENAI_CASB_EXACTNATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* What a judge says of a validated value in its place (validators.Form; FORM_NONE is None). */
enum { FORM_NONE = 0, FORM_REJECT = 1, FORM_WEAK = 2, FORM_SAMPLE = 3 };

/* A classify, judge or population check may return this for a value it cannot answer for sure
 * (jwt: a JSON header outside the subset read in C): the core then calls the Python function for
 * that value. The module's classify() and judge() (for tests) return it as is. */
#define NATIVE_ASK_PYTHON (-3)

/* The value (ASCII, not NUL-terminated) -> the index of its entry in Detector.entries, or -1. */
typedef int (*native_classify_fn)(const unsigned char *value, Py_ssize_t length);
/* The whole text (ASCII) and the value's span -> a FORM_* (Detector.judge). */
typedef int (*native_judge_fn)(const unsigned char *text, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end);
/* The value -> 1 when refused by its checksum only (financial.POPULATION_CHECKS), else 0. */
typedef int (*native_refused_fn)(const unsigned char *value, Py_ssize_t length);

typedef struct {
    const char *key;             /* Detector.key; NULL ends a table */
    native_classify_fn classify; /* NULL: Detector.classify is called in Python */
    native_judge_fn judge;       /* NULL: Detector.judge (if any) is called in Python */
    native_refused_fn refused;   /* NULL: the population check (if any) is called in Python */
} NativeDetector;

/* Each receives the dict given to _exactnative.configure() (see engine_native.py) once, before
 * any table entry is used; returns 0, or -1 with a Python exception set. */
int financial_configure(PyObject *tables);
int secrets_configure(PyObject *tables);

extern const NativeDetector FINANCIAL_DETECTORS[];
extern const NativeDetector SECRET_DETECTORS[];

#endif
