/* polytag._ordmap: a str -> int map for an app's subject directory, looked up a batch at a time.
 *
 * A vendor write names up to a few hundred users by external id; with millions of users in
 * an app, each lookup in a dict is several cache misses in a row (index, entry, key, value).
 * `get_many` hashes the whole batch first, prefetches every slot, then every candidate key,
 * so the misses of one batch overlap instead of queueing.
 *
 * Layout: open addressing with linear probing over 16-byte slots (key, hash tag, value), at
 * most half full: the slot holds the key's address, so the key can be prefetched as soon as the
 * slot arrives. A key is a strong reference to an exact str; a value is an ordinal, 0 to
 * 2**32 - 1. Nothing is ever removed (ordinals are never reused).
 * Every method holds the GIL throughout and runs no Python code once it reads a slot (the one
 * allocation that may start the garbage collector, get_many's result list, comes first), so each
 * is atomic, as dict methods are. Keys that are not exact str are never stored and never found.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject *key;        /* NULL: empty */
    uint32_t tag;         /* the top 32 bits of the key's hash */
    uint32_t value;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    Py_ssize_t mask;      /* capacity - 1, capacity a power of two */
    Py_ssize_t size;      /* slots in use */
} OrdMap;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

#define BATCH_ON_STACK 128
#define NOT_FOUND ((Py_ssize_t)-1)

static inline uint32_t tag_of(Py_hash_t h) { return (uint32_t)((uint64_t)h >> 32); }

static inline Py_ssize_t first_slot(OrdMap *self, Py_hash_t h)
{
    return (Py_ssize_t)((size_t)h & (size_t)self->mask);
}

static inline int same_str(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return 0;
    return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

/* The slot holding `key` (an exact str with hash h), or the empty slot that ends its probe
 * sequence (then *found is 0); probing starts at `pos`. */
static Py_ssize_t probe(OrdMap *self, PyObject *key, Py_hash_t h, Py_ssize_t pos, int *found)
{
    uint32_t tag = tag_of(h);
    for (;;) {
        Slot *s = &self->slots[pos];
        if (s->key == NULL) {
            *found = 0;
            return pos;
        }
        if (s->tag == tag && same_str(s->key, key)) {
            *found = 1;
            return pos;
        }
        pos = (pos + 1) & self->mask;
    }
}

static int resize(OrdMap *self, Py_ssize_t capacity)
{
    Slot *slots = PyMem_Calloc((size_t)capacity, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t mask = capacity - 1;
    for (Py_ssize_t i = 0; i <= self->mask; i++) {
        Slot s = self->slots[i];
        if (s.key == NULL)
            continue;
        Py_hash_t h = PyObject_Hash(s.key);  /* cached in the str: cannot fail */
        Py_ssize_t pos = (Py_ssize_t)((size_t)h & (size_t)mask);
        while (slots[pos].key != NULL)
            pos = (pos + 1) & mask;
        slots[pos] = s;
    }
    PyMem_Free(self->slots);
    self->slots = slots;
    self->mask = mask;
    return 0;
}

/* Room for `more` keys at most half full. */
static int reserve(OrdMap *self, Py_ssize_t more)
{
    Py_ssize_t want = self->size + more, capacity = self->mask + 1;
    if (want > PY_SSIZE_T_MAX / 4) {
        PyErr_NoMemory();
        return -1;
    }
    if (want * 2 <= capacity)
        return 0;
    while (want * 2 > capacity)
        capacity *= 2;
    return resize(self, capacity);
}

static int check_key(PyObject *key)
{
    if (PyUnicode_CheckExact(key))
        return 0;
    PyErr_Format(PyExc_TypeError, "OrdMap keys are str, not %.100s", Py_TYPE(key)->tp_name);
    return -1;
}

static long long not_an_ordinal(void)
{
    PyErr_SetString(PyExc_OverflowError, "OrdMap values are ordinals, 0 to 2**32 - 1");
    return -1;
}

/* A value as an ordinal: 0 .. 2**32 - 1; -1 with an exception set otherwise. */
static long long check_value(PyObject *value)
{
    long long v = PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    return v < 0 || v > (long long)UINT32_MAX ? not_an_ordinal() : v;
}

/* Set key -> value: an exact str and a checked value, room reserved by the caller. */
static void put(OrdMap *self, PyObject *key, uint32_t value)
{
    Py_hash_t h = PyObject_Hash(key);  /* a str's hash cannot fail */
    int found;
    Slot *s = &self->slots[probe(self, key, h, first_slot(self, h), &found)];
    if (!found) {
        s->key = Py_NewRef(key);
        s->tag = tag_of(h);
        self->size++;
    }
    s->value = value;
}

static PyObject *OrdMap_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "OrdMap() takes no arguments");
        return NULL;
    }
    OrdMap *self = (OrdMap *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->slots = PyMem_Calloc(16, sizeof(Slot));
    if (self->slots == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->mask = 15;
    return (PyObject *)self;
}

static void OrdMap_dealloc(OrdMap *self)
{
    if (self->slots != NULL) {
        for (Py_ssize_t i = 0; i <= self->mask; i++)
            Py_XDECREF(self->slots[i].key);
        PyMem_Free(self->slots);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t OrdMap_len(OrdMap *self) { return self->size; }

/* The slot of `key`, or NOT_FOUND (also for a key that is not an exact str). */
static Py_ssize_t find(OrdMap *self, PyObject *key)
{
    if (!PyUnicode_CheckExact(key))
        return NOT_FOUND;
    Py_hash_t h = PyObject_Hash(key);
    int found;
    Py_ssize_t pos = probe(self, key, h, first_slot(self, h), &found);
    return found ? pos : NOT_FOUND;
}

static int OrdMap_contains(OrdMap *self, PyObject *key) { return find(self, key) != NOT_FOUND; }

PyDoc_STRVAR(get_doc, "get(key, default=None): the value of `key`, or `default`.");

static PyObject *OrdMap_get(OrdMap *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    Py_ssize_t pos = find(self, args[0]);
    if (pos == NOT_FOUND)
        return Py_NewRef(nargs == 2 ? args[1] : Py_None);
    return PyLong_FromUnsignedLong(self->slots[pos].value);
}

PyDoc_STRVAR(get_many_doc,
"get_many(keys): a list with the value of each of `keys` (a list or tuple), None where absent.");

static PyObject *OrdMap_get_many(OrdMap *self, PyObject *keys)
{
    PyObject *seq = PySequence_Fast(keys, "get_many takes a list or tuple of keys");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(n);
    Py_ssize_t stack_pos[BATCH_ON_STACK];
    Py_ssize_t *pos = n <= BATCH_ON_STACK ? stack_pos : PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    if (out == NULL || pos == NULL) {
        Py_XDECREF(out);
        Py_DECREF(seq);
        return pos == NULL ? PyErr_NoMemory() : NULL;
    }
    /* 1: hash every key, prefetch its first slot */
    for (Py_ssize_t i = 0; i < n; i++) {
        pos[i] = NOT_FOUND;
        if (!PyUnicode_CheckExact(items[i]))
            continue;
        pos[i] = first_slot(self, PyObject_Hash(items[i]));
        PREFETCH(&self->slots[pos[i]]);
    }
    /* 2: prefetch the key in that slot when its tag matches (almost always the one) */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (pos[i] == NOT_FOUND)
            continue;
        Slot *s = &self->slots[pos[i]];
        if (s->key != NULL && s->tag == tag_of(PyObject_Hash(items[i]))) {
            PREFETCH(s->key);
            PREFETCH((char *)s->key + 64);  /* a short str's text ends there */
        }
    }
    /* 3: probe for real */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v;
        int found = 0;
        Py_ssize_t at = pos[i];
        if (at != NOT_FOUND)
            at = probe(self, items[i], PyObject_Hash(items[i]), at, &found);
        v = found ? PyLong_FromUnsignedLong(self->slots[at].value) : Py_NewRef(Py_None);
        if (v == NULL) {
            Py_DECREF(out);
            out = NULL;
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    if (pos != stack_pos)
        PyMem_Free(pos);
    Py_DECREF(seq);
    return out;
}

PyDoc_STRVAR(extend_doc,
"extend(keys, first): key i of `keys` (a list or tuple of str) maps to first + i.");

static PyObject *OrdMap_extend(OrdMap *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "extend(keys, first)");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "extend takes a list or tuple of keys");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    long long first = check_value(args[1]);
    int bad = first == -1;
    if (!bad && n > 0 && first + n - 1 > (long long)UINT32_MAX)
        bad = not_an_ordinal() == -1;
    for (Py_ssize_t i = 0; i < n && !bad; i++)  /* checked first: all or nothing */
        bad = check_key(items[i]) < 0;
    if (bad || reserve(self, n) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        put(self, items[i], (uint32_t)(first + i));
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

static int OrdMap_ass_sub(OrdMap *self, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "OrdMap keys cannot be removed");
        return -1;
    }
    long long v = check_value(value);
    if (v == -1 || check_key(key) < 0 || reserve(self, 1) < 0)
        return -1;
    put(self, key, (uint32_t)v);
    return 0;
}

static PyObject *OrdMap_subscript(OrdMap *self, PyObject *key)
{
    Py_ssize_t pos = find(self, key);
    if (pos == NOT_FOUND) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return PyLong_FromUnsignedLong(self->slots[pos].value);
}

PyDoc_STRVAR(memory_doc,
"memory(): bytes the map itself holds (the object and its slots; the keys are the caller's).");

static PyObject *OrdMap_memory(OrdMap *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t((Py_ssize_t)sizeof(OrdMap) + (self->mask + 1) * (Py_ssize_t)sizeof(Slot));
}

static PyMethodDef OrdMap_methods[] = {
    {"get", (PyCFunction)(void (*)(void))OrdMap_get, METH_FASTCALL, get_doc},
    {"get_many", (PyCFunction)OrdMap_get_many, METH_O, get_many_doc},
    {"extend", (PyCFunction)(void (*)(void))OrdMap_extend, METH_FASTCALL, extend_doc},
    {"memory", (PyCFunction)OrdMap_memory, METH_NOARGS, memory_doc},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods OrdMap_as_sequence = {
    .sq_contains = (objobjproc)OrdMap_contains,
};

static PyMappingMethods OrdMap_as_mapping = {
    .mp_length = (lenfunc)OrdMap_len,
    .mp_subscript = (binaryfunc)OrdMap_subscript,
    .mp_ass_subscript = (objobjargproc)OrdMap_ass_sub,
};

static PyTypeObject OrdMapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "polytag._ordmap.OrdMap",
    .tp_basicsize = sizeof(OrdMap),
    .tp_dealloc = (destructor)OrdMap_dealloc,
    .tp_as_sequence = &OrdMap_as_sequence,
    .tp_as_mapping = &OrdMap_as_mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("OrdMap(): str -> int, never shrinking; get_many looks up a batch at once."),
    .tp_methods = OrdMap_methods,
    .tp_new = OrdMap_new,
};

static struct PyModuleDef ordmap_module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "polytag._ordmap",
    .m_doc = "A str -> ordinal map looked up a batch at a time (see OrdMap).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__ordmap(void)
{
    if (PyType_Ready(&OrdMapType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&ordmap_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "OrdMap", (PyObject *)&OrdMapType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
