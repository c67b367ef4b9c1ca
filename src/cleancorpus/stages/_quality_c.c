/* The quality stage's per-word loops, compiled: the same numbers as the Python in quality.py,
 * without Python's or numpy's per-call cost (each function below names the Python it replaces;
 * tests/test_quality_compiled.py checks them against it and against plain definitions):
 *
 * word_counts(words, stop_words, symbol_chars) -> (other, symbols, symbol_chars, other_with_letter,
 *     stop_words_found), Gopher's quality counts (QualityStage._gopher_quality):
 *   - other: the words that are not str.isalpha();
 *   - symbols / symbol_chars: those of them made only of characters of the string symbol_chars
 *     and not str.isalnum() (quality._only_symbols), and their characters; other_with_letter:
 *     those with a character that is str.isalpha() (quality._has_letter);
 *   - stop_words_found: how many distinct words are in the set stop_words.
 *
 * repetition(words: list[str]) -> (top2, top3, top4, dup5, dup6, dup7, dup8, dup9, dup10)
 *
 * - a word's id is the position of its first use (words compared as Python strings);
 * - for n = 2 .. 10, an n-gram's id is the dense id of the pair (id of its first n-1 words, id of
 *   its last word), in the order of first use: exact, no hashing of text, no collisions;
 * - an n-gram can only repeat where its first n-1 words repeat, so each n looks only at the
 *   positions whose (n-1)-gram occurs more than once, kept in text order;
 * - top n (n = 2, 3, 4): the most frequent n-gram (the first in text order among equals), its
 *   characters with the spaces between its words, times its count; when no n-gram repeats, the
 *   first n-gram once (0 for a text of fewer than n words);
 * - dup n (n = 5 .. 10): the characters (without spaces) of the n-grams that repeat one seen
 *   before, scanning left to right and jumping over a repeat (datatrove's scan).
 *
 * chunk_words(chunks, memo, specials, limit, suffix_marks, prefix_marks, rejoin, general, key_of,
 *             flagged, flag, key_one) -> (words, missed, keys), the words of a text's whitespace-separated chunks (WordSplitter.words_of_chunks): each chunk's
 *     tokens from the memo (a dict of chunk -> tuple of tokens), flattened into one list. A chunk
 *     not in the memo is split here when _ChunkTokens.__missing__ would split it without the
 *     general affix loop (no special case; letters only -> (chunk,); letters then one closing
 *     mark of suffix_marks, or a "." after a lower-case letter -> (letters, mark); one opening
 *     mark of prefix_marks then letters -> (mark, letters); a number, ASCII digits joined by
 *     single "." "," or ":", -> (chunk,), or a number then one closing mark or "." -> (number,
 *     mark), as WordSplitter._plain splits them; any other chunk that is no special case as
 *     WordSplitter._chunk splits it: _plain's shapes here, rejoin(tokens) when there are more
 *     than two, else general(chunk)), and stored as it would store it (while the memo holds
 *     fewer than limit entries); a special case, or any chunk once the memo is full, is handed
 *     to memo[chunk], the memo's __missing__. missed: whether any chunk was not in the memo.
 *     With key_of (not None; C4's bad words), a chunk not in the memo is first looked up in
 *     flagged (chunk -> (tokens, keys)), and a new chunk whose key_of(chunk) is not empty goes
 *     there through flag(chunk, tokens, keys) instead of into the memo, as __missing__ does.
 *     key_one (a dict, or None): key_of's answer for a chunk of ASCII letters and digits, by
 *     the chunk lower-cased (absent: no keys), so that key_of is called only for the others.
 *     keys: the union of key_of(chunk) over the text's chunks (a set; empty without key_of): a
 *     chunk in the memo has none, the others' keys are known here (flagged, or just computed;
 *     a chunk handed to __missing__ gets key_of(chunk) called), as words_and_keys needs them.
 *
 * c4_boundaries(lines, chunk_kinds, ends) -> int, the sentence starts after the first token of each
 *     line (WordSplitter.count_boundaries of line_kinds, line by line): a line's tokens are its
 *     chunks' tokens, with a run of whitespace other than one plain space as a "w" token; a
 *     sentence starts at the first "w" after an "e". A chunk's kinds come from chunk_kinds (the
 *     memo, a dict that computes a missing chunk), except for a chunk with no character of ends
 *     (the sentence-ending characters) and a letter or digit: such a chunk has no "e" token and
 *     at least one "w" (a token with a letter or digit is a word), so it counts as one "w".
 *
 * c4_lines(lines, chunk_kinds, ends, min_words, max_word) -> (kept, starts), C4's line rules
 *     (QualityStage._c4) on candidate lines (each ending in a sentence-ending character of C4 or
 *     in "]") when none of them holds "[", "{" or a phrase C4 looks for: a line is kept when it
 *     has at least min_words chunks, none longer than max_word, does not end in "]" (with no
 *     "[" there is no citation marker to remove, and "]" ends no sentence) nor in "...";
 *     starts: c4_boundaries of the kept lines.
 *
 * The module is optional: without it (no C compiler at install time) quality.py computes the same
 * numbers in Python (and numpy); tests/test_quality_compiled.py checks they agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_N 10

typedef struct {
    Py_hash_t hash;
    PyObject *key; /* borrowed from the list; NULL: empty slot */
    Py_ssize_t id;
} WordSlot;

typedef struct {
    int64_t a, b; /* the pair; a == -1: empty slot */
    Py_ssize_t dense;
} PairSlot;

static size_t
table_size(Py_ssize_t items)
{
    size_t size = 16;
    while (size < (size_t)items * 2)
        size <<= 1;
    return size;
}

static inline uint64_t
mix(uint64_t x)
{
    /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* ids[i]: the position of the first use of words[i]; cum[i]: characters of words[:i]. -1 on error. */
static int
word_ids(PyObject *words, Py_ssize_t n, int64_t *ids, int64_t *cum)
{
    size_t size = table_size(n), mask = size - 1;
    WordSlot *table = PyMem_Calloc(size, sizeof(WordSlot));
    if (table == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    cum[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(w)) {
            PyErr_Format(PyExc_TypeError, "words must be str, not %.100s", Py_TYPE(w)->tp_name);
            PyMem_Free(table);
            return -1;
        }
        Py_hash_t h = PyObject_Hash(w); /* cached in the str object */
        if (h == -1) {
            PyMem_Free(table);
            return -1;
        }
        size_t j = (size_t)mix((uint64_t)h) & mask;
        for (;;) {
            WordSlot *s = &table[j];
            if (s->key == NULL) {
                s->hash = h;
                s->key = w;
                s->id = i;
                ids[i] = i;
                break;
            }
            if (s->hash == h) {
                int eq = s->key == w ? 1 : PyObject_RichCompareBool(s->key, w, Py_EQ);
                if (eq < 0) {
                    PyMem_Free(table);
                    return -1;
                }
                if (eq) {
                    ids[i] = s->id;
                    break;
                }
            }
            j = (j + 1) & mask;
        }
        cum[i + 1] = cum[i] + PyUnicode_GET_LENGTH(w);
    }
    PyMem_Free(table);
    return 0;
}

static PyObject *
repetition(PyObject *module, PyObject *words)
{
    if (!PyList_Check(words)) {
        PyErr_SetString(PyExc_TypeError, "repetition() takes a list of str");
        return NULL;
    }
    Py_ssize_t n_words = PyList_GET_SIZE(words);
    int64_t top[5] = {0, 0, 0, 0, 0}; /* by n, 2..4 */
    int64_t dup[MAX_N + 1] = {0};     /* by n, 5..10 */
    Py_ssize_t alloc = n_words > 0 ? n_words : 1;
    int64_t *ids = PyMem_Malloc(sizeof(int64_t) * alloc);
    int64_t *cum = PyMem_Malloc(sizeof(int64_t) * (alloc + 1));
    Py_ssize_t *pos = PyMem_Malloc(sizeof(Py_ssize_t) * alloc);
    int64_t *gram = PyMem_Malloc(sizeof(int64_t) * alloc);
    Py_ssize_t *dense = PyMem_Malloc(sizeof(Py_ssize_t) * alloc);
    Py_ssize_t *counts = PyMem_Malloc(sizeof(Py_ssize_t) * alloc);
    unsigned char *seen = PyMem_Malloc(alloc);
    PairSlot *table = NULL;
    PyObject *result = NULL;
    if (!ids || !cum || !pos || !gram || !dense || !counts || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    if (word_ids(words, n_words, ids, cum) < 0)
        goto done;
    /* when no n-gram repeats, the top one is the first, once */
    for (int n = 2; n <= 4; n++)
        top[n] = n_words >= n ? cum[n] - cum[0] + n - 1 : 0;
    table = PyMem_Malloc(sizeof(PairSlot) * table_size(n_words));
    if (table == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t m_all = n_words; /* positions still in play, in text order */
    for (Py_ssize_t i = 0; i < n_words; i++) {
        pos[i] = i;
        gram[i] = ids[i];
    }
    for (int n = 2; n <= MAX_N; n++) {
        /* the n-grams that fit: positions are ascending, so a prefix */
        Py_ssize_t m = m_all;
        while (m > 0 && pos[m - 1] + n > n_words)
            m--;
        if (m == 0)
            break;
        size_t tmask = table_size(m) - 1; /* (m <= n_words: within the table) */
        for (size_t j = 0; j <= tmask; j++)
            table[j].a = -1;
        Py_ssize_t n_dense = 0, best = 0;
        for (Py_ssize_t k = 0; k < m; k++) {
            int64_t a = gram[k], b = ids[pos[k] + n - 1];
            size_t j = (size_t)mix(((uint64_t)a << 32) ^ (uint64_t)b ^ ((uint64_t)a >> 32)) & tmask;
            for (;;) {
                PairSlot *s = &table[j];
                if (s->a == -1) {
                    s->a = a;
                    s->b = b;
                    s->dense = n_dense;
                    counts[n_dense] = 0;
                    dense[k] = n_dense++;
                    break;
                }
                if (s->a == a && s->b == b) {
                    dense[k] = s->dense;
                    break;
                }
                j = (j + 1) & tmask;
            }
            Py_ssize_t c = ++counts[dense[k]];
            if (c > best)
                best = c;
        }
        if (best == 1)
            break; /* no repeated n-gram: no longer one repeats either */
        if (n <= 4) {
            for (Py_ssize_t k = 0; k < m; k++) {
                if (counts[dense[k]] == best) { /* the first in text order */
                    Py_ssize_t i = pos[k];
                    top[n] = (cum[i + n] - cum[i] + n - 1) * best;
                    break;
                }
            }
        } else {
            /* the left-to-right scan over the positions whose n-gram occurs more than once (an
             * n-gram that occurs once can be neither a repeat nor repeated) */
            memset(seen, 0, n_dense);
            int64_t chars = 0;
            Py_ssize_t idx = 0;
            for (Py_ssize_t k = 0; k < m; k++) {
                Py_ssize_t d = dense[k], i = pos[k];
                if (counts[d] < 2 || i < idx)
                    continue;
                if (seen[d]) {
                    chars += cum[i + n] - cum[i];
                    idx = i + n;
                } else {
                    seen[d] = 1;
                }
            }
            dup[n] = chars;
        }
        /* keep the positions whose n-gram repeats, with the n-gram's id */
        Py_ssize_t kept = 0;
        for (Py_ssize_t k = 0; k < m; k++) {
            if (counts[dense[k]] > 1) {
                pos[kept] = pos[k];
                gram[kept] = dense[k];
                kept++;
            }
        }
        m_all = kept;
    }
    result = Py_BuildValue("(LLLLLLLLL)", (long long)top[2], (long long)top[3], (long long)top[4],
                           (long long)dup[5], (long long)dup[6], (long long)dup[7], (long long)dup[8],
                           (long long)dup[9], (long long)dup[10]);
done:
    PyMem_Free(ids);
    PyMem_Free(cum);
    PyMem_Free(pos);
    PyMem_Free(gram);
    PyMem_Free(dense);
    PyMem_Free(counts);
    PyMem_Free(seen);
    PyMem_Free(table);
    return result;
}

/* str.isalpha(): every character alphabetic, and at least one */
static int
is_alpha(PyObject *w)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(w);
    if (n == 0)
        return 0;
    int kind = PyUnicode_KIND(w);
    const void *data = PyUnicode_DATA(w);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

typedef struct {
    uint64_t bmp[1024]; /* the characters of a set in the Basic Multilingual Plane, as bits */
    PyObject *all;      /* all of them, as a str (the others are looked for there) */
} CharSet;

static void
charset_init(CharSet *set, PyObject *chars)
{
    memset(set->bmp, 0, sizeof(set->bmp));
    set->all = chars;
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(chars); i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(chars, i);
        if (ch < 0x10000)
            set->bmp[ch >> 6] |= (uint64_t)1 << (ch & 63);
    }
}

static inline int
charset_has(const CharSet *set, Py_UCS4 ch)
{
    if (ch < 0x10000)
        return (set->bmp[ch >> 6] >> (ch & 63)) & 1;
    return PyUnicode_FindChar(set->all, ch, 0, PyUnicode_GET_LENGTH(set->all), 1) >= 0;
}

static PyObject *
word_counts(PyObject *module, PyObject *args)
{
    PyObject *words, *stop_words, *symbol_str;
    if (!PyArg_ParseTuple(args, "O!O!U:word_counts", &PyList_Type, &words, &PyFrozenSet_Type, &stop_words,
                          &symbol_str))
        return NULL;
    CharSet symbol_set;
    charset_init(&symbol_set, symbol_str);
    Py_ssize_t n = PyList_GET_SIZE(words), other = 0, symbols = 0, symbol_chars = 0, lettered = 0;
    PyObject *found = PySet_New(NULL); /* the stop words seen */
    if (found == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(w)) {
            PyErr_Format(PyExc_TypeError, "words must be str, not %.100s", Py_TYPE(w)->tp_name);
            goto error;
        }
        int stop = PySet_Contains(stop_words, w);
        if (stop < 0 || (stop && PySet_Add(found, w) < 0))
            goto error;
        if (is_alpha(w))
            continue;
        other++;
        /* only symbols: not str.isalnum(), every character in symbol_chars; a letter: a
         * character that is str.isalpha() */
        int kind = PyUnicode_KIND(w);
        const void *data = PyUnicode_DATA(w);
        Py_ssize_t len = PyUnicode_GET_LENGTH(w);
        int all_alnum = len > 0, all_symbols = 1, letter = 0;
        for (Py_ssize_t j = 0; j < len; j++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, j);
            all_alnum &= Py_UNICODE_ISALNUM(ch) != 0;
            all_symbols &= charset_has(&symbol_set, ch);
            letter |= Py_UNICODE_ISALPHA(ch) != 0;
        }
        if (!all_alnum && all_symbols) {
            symbols++;
            symbol_chars += len;
        }
        lettered += letter;
    }
    Py_ssize_t stops = PySet_GET_SIZE(found);
    Py_DECREF(found);
    return Py_BuildValue("(nnnnn)", other, symbols, symbol_chars, lettered, stops);
error:
    Py_DECREF(found);
    return NULL;
}

/* str.isalpha() of chunk[start:end] */
static int
is_alpha_range(PyObject *w, Py_ssize_t start, Py_ssize_t end)
{
    if (end <= start)
        return 0;
    int kind = PyUnicode_KIND(w);
    const void *data = PyUnicode_DATA(w);
    for (Py_ssize_t i = start; i < end; i++) {
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

static int
has_char(PyObject *marks, Py_UCS4 ch)
{
    return PyUnicode_FindChar(marks, ch, 0, PyUnicode_GET_LENGTH(marks), 1) >= 0;
}

/* (chunk[a:b], chunk[b:c]) when chunk[a:b] (or the whole part given as letters) is no special
 * case; NULL with no error when it is one; NULL with an error on failure */
static PyObject *
pair_unless_special(PyObject *chunk, PyObject *specials, Py_ssize_t cut, Py_ssize_t letters_start, Py_ssize_t letters_end)
{
    PyObject *letters = PyUnicode_Substring(chunk, letters_start, letters_end);
    if (letters == NULL)
        return NULL;
    int special = PyDict_Contains(specials, letters);
    if (special != 0) {
        Py_DECREF(letters);
        return NULL;
    }
    PyObject *first = PyUnicode_Substring(chunk, 0, cut);
    PyObject *second = first ? PyUnicode_Substring(chunk, cut, PyUnicode_GET_LENGTH(chunk)) : NULL;
    PyObject *pair = second ? PyTuple_Pack(2, first, second) : NULL;
    Py_XDECREF(first);
    Py_XDECREF(second);
    Py_DECREF(letters);
    return pair;
}

/* chunk[start:end] is [0-9]+(?:[.,:][0-9]+)* (quality_words._NUMBER) */
static int
number_range(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    int digit_before = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch >= '0' && ch <= '9')
            digit_before = 1;
        else if ((ch == '.' || ch == ',' || ch == ':') && digit_before)
            digit_before = 0;
        else
            return 0;
    }
    return digit_before;
}

static int
is_number(int kind, const void *data, Py_ssize_t end)
{
    return number_range(kind, data, 0, end);
}

/* chunk[a:b] is [^\W\d_](?:['’\xad]?[^\W\d_])* (quality_words._INNER_MARKS): letters (str.isalnum,
 * not a decimal digit) with single apostrophes or soft hyphens between them */
static inline int
is_inner_letter(Py_UCS4 ch)
{
    return Py_UNICODE_ISALNUM(ch) && !Py_UNICODE_ISDECIMAL(ch);
}

static int
is_inner_marks(int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    if (b <= a)
        return 0;
    int after_letter = 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (is_inner_letter(ch))
            after_letter = 1;
        else if ((ch == '\'' || ch == 0x2019 || ch == 0xAD) && after_letter && i > a)
            after_letter = 0;
        else
            return 0;
    }
    return after_letter;
}

/* append chunk[a:b] to list; -1 on error */
static int
append_part(PyObject *list, PyObject *chunk, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *part = PyUnicode_Substring(chunk, a, b);
    if (part == NULL)
        return -1;
    int r = PyList_Append(list, part);
    Py_DECREF(part);
    return r;
}

/* append specials.get(chunk[a:b], (chunk[a:b],)) to list; -1 on error */
static int
append_word(PyObject *list, PyObject *chunk, PyObject *specials, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *word = PyUnicode_Substring(chunk, a, b);
    if (word == NULL)
        return -1;
    PyObject *pieces = PyDict_GetItemWithError(specials, word); /* borrowed */
    int r;
    if (pieces != NULL) {
        r = 0;
        PyObject *it = PySequence_Fast(pieces, "special cases must be sequences");
        if (it == NULL)
            r = -1;
        for (Py_ssize_t i = 0; r == 0 && i < PySequence_Fast_GET_SIZE(it); i++)
            r = PyList_Append(list, PySequence_Fast_GET_ITEM(it, i));
        Py_XDECREF(it);
    } else {
        r = PyErr_Occurred() ? -1 : PyList_Append(list, word);
    }
    Py_DECREF(word);
    return r;
}

/* 1 if chunk[a:b] is in specials, 0 if not, -1 on error */
static int
is_special(PyObject *chunk, PyObject *specials, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *part = PyUnicode_Substring(chunk, a, b);
    if (part == NULL)
        return -1;
    int r = PyDict_Contains(specials, part);
    Py_DECREF(part);
    return r;
}

/* WordSplitter._plain: an opening mark, then letters, a number, a possessive, letters or digits
 * joined by hyphens, or letters with inner apostrophes or soft hyphens, then up to two closing
 * marks or dot runs. A new reference to the tokens as a tuple; NULL without an error when _plain
 * gives None (the general rules decide); NULL with an error on failure. */
static PyObject *
plain_tokens(PyObject *chunk, PyObject *specials, PyObject *suffix_marks, PyObject *prefix_marks)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    int kind = PyUnicode_KIND(chunk);
    const void *data = PyUnicode_DATA(chunk);
    Py_ssize_t pre = (n > 0 && has_char(prefix_marks, PyUnicode_READ(kind, data, 0))) ? 1 : 0;
    Py_ssize_t a = pre, b = n; /* the core: chunk[a:b] */
    Py_ssize_t post_len[2];    /* the closing marks' lengths, outermost first */
    int n_post = 0;
    while (n_post < 2 && b - a >= 2) {
        Py_UCS4 last = PyUnicode_READ(kind, data, b - 1), before = PyUnicode_READ(kind, data, b - 2);
        if (last == '.' && before == '.') {
            Py_ssize_t run = 0;
            while (b - run > a && PyUnicode_READ(kind, data, b - 1 - run) == '.')
                run++;
            if (run == b - a)
                break;
            post_len[n_post++] = run;
            b -= run;
        } else if (last == 0x2026 && before == 0x2026) {
            return NULL; /* "……" is one suffix */
        } else if (has_char(suffix_marks, last)
                   || (last == '.' && (Py_UNICODE_ISLOWER(before) || (before >= '0' && before <= '9')
                                       || has_char(suffix_marks, before)))) {
            post_len[n_post++] = 1;
            b -= 1;
        } else {
            break;
        }
    }
    if (b <= a)
        return NULL;
    /* every string the general loop could stop at must not be a special case */
    Py_ssize_t cuts[3];
    cuts[0] = n;
    for (int k = 0; k < n_post; k++)
        cuts[k + 1] = cuts[k] - post_len[k];
    for (int s = 0; s < (pre ? 2 : 1); s++) {
        Py_ssize_t i = s ? pre : 0;
        for (int k = 0; k <= n_post; k++) {
            if (i == 0 && cuts[k] == n)
                continue; /* the chunk itself */
            int special = is_special(chunk, specials, i, cuts[k]);
            if (special != 0)
                return NULL; /* (an error stays set) */
        }
    }
    PyObject *toks = PyList_New(0);
    if (toks == NULL)
        return NULL;
    if (pre && append_part(toks, chunk, 0, 1) < 0)
        goto error;
    Py_UCS4 c1 = b - a >= 2 ? PyUnicode_READ(kind, data, b - 2) : 0, c2 = PyUnicode_READ(kind, data, b - 1);
    int hyphen = PyUnicode_FindChar(chunk, '-', a, b, 1) >= 0;
    if (is_alpha_range(chunk, a, b)) {
        if (append_word(toks, chunk, specials, a, b) < 0)
            goto error;
    } else if (number_range(kind, data, a, b)) {
        if (append_part(toks, chunk, a, b) < 0)
            goto error;
    } else if ((c1 == '\'' || c1 == 0x2019) && (c2 == 's' || c2 == 'S')) {
        if (!is_alpha_range(chunk, a, b - 2)) {
            Py_DECREF(toks);
            return NULL;
        }
        if (append_word(toks, chunk, specials, a, b - 2) < 0 || append_part(toks, chunk, b - 2, b) < 0)
            goto error;
    } else if (hyphen) {
        /* letters-hyphen-letters, or ASCII digits-hyphen-digits */
        int all_alpha = 1, all_digits = 1;
        Py_ssize_t start = a;
        for (Py_ssize_t i = a; i <= b; i++) {
            if (i == b || PyUnicode_READ(kind, data, i) == '-') {
                all_alpha &= is_alpha_range(chunk, start, i);
                int digits = i > start;
                for (Py_ssize_t j = start; j < i && digits; j++) {
                    Py_UCS4 ch = PyUnicode_READ(kind, data, j);
                    digits = ch >= '0' && ch <= '9';
                }
                all_digits &= digits;
                start = i + 1;
            }
        }
        if (!all_alpha && !all_digits) {
            Py_DECREF(toks);
            return NULL;
        }
        start = a;
        for (Py_ssize_t i = a; i <= b; i++) {
            if (i == b || PyUnicode_READ(kind, data, i) == '-') {
                if (append_part(toks, chunk, start, i) < 0 || (i < b && append_part(toks, chunk, i, i + 1) < 0))
                    goto error;
                start = i + 1;
            }
        }
    } else if (is_inner_marks(kind, data, a, b)) {
        if (append_part(toks, chunk, a, b) < 0)
            goto error;
    } else {
        Py_DECREF(toks);
        return NULL;
    }
    for (int k = n_post - 1; k >= 0; k--) {
        if (append_part(toks, chunk, cuts[k + 1], cuts[k]) < 0)
            goto error;
    }
    PyObject *tuple = PyList_AsTuple(toks);
    Py_DECREF(toks);
    return tuple;
error:
    Py_DECREF(toks);
    return NULL;
}

/* the tokens of a chunk not in the memo, when no general rule is needed (new reference); NULL
 * without an error when the general rules must decide; NULL with an error on failure */
static PyObject *
simple_tokens(PyObject *chunk, PyObject *specials, PyObject *suffix_marks, PyObject *prefix_marks)
{
    int special = PyDict_Contains(specials, chunk);
    if (special != 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    if (is_alpha_range(chunk, 0, n))
        return PyTuple_Pack(1, chunk);
    if (n < 2)
        return NULL;
    int kind = PyUnicode_KIND(chunk);
    const void *data = PyUnicode_DATA(chunk);
    Py_UCS4 last = PyUnicode_READ(kind, data, n - 1), first = PyUnicode_READ(kind, data, 0);
    if ((last == '.' || has_char(suffix_marks, last)) && is_alpha_range(chunk, 0, n - 1)
        && (last != '.' || Py_UNICODE_ISLOWER(PyUnicode_READ(kind, data, n - 2)))) {
        PyObject *pair = pair_unless_special(chunk, specials, n - 1, 0, n - 1);
        if (pair != NULL || PyErr_Occurred())
            return pair;
    }
    if (has_char(prefix_marks, first) && is_alpha_range(chunk, 1, n))
        return pair_unless_special(chunk, specials, 1, 1, n);
    /* numbers (WordSplitter._plain: no affix or infix rule cuts digits joined by . , or :) */
    if (is_number(kind, data, n))
        return PyTuple_Pack(1, chunk);
    if ((last == '.' || has_char(suffix_marks, last)) && is_number(kind, data, n - 1))
        return pair_unless_special(chunk, specials, n - 1, 0, n - 1);
    return NULL;
}

/* key_of(chunk) for a chunk of ASCII letters and digits: key_one.get(chunk.lower(), no keys), as
 * BadWords.chunk_keys gives it (a new reference); NULL without an error for any other chunk (or
 * no key_one: key_of decides) */
static PyObject *
ascii_keys(PyObject *chunk, PyObject *key_one)
{
    if (key_one == Py_None || !PyUnicode_IS_ASCII(chunk))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    const Py_UCS1 *src = PyUnicode_1BYTE_DATA(chunk);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = src[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return NULL;
    }
    if (n == 0)
        return NULL;
    PyObject *low = PyUnicode_New(n, 127);
    if (low == NULL)
        return NULL;
    Py_UCS1 *dst = PyUnicode_1BYTE_DATA(low);
    for (Py_ssize_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (Py_UCS1)(src[i] + 32) : src[i];
    PyObject *keys = PyDict_GetItemWithError(key_one, low); /* borrowed */
    Py_DECREF(low);
    if (keys != NULL) {
        Py_INCREF(keys);
        return keys;
    }
    if (PyErr_Occurred())
        return NULL;
    return PyFrozenSet_New(NULL); /* no keys */
}

/* add the items of keys (an iterable) to the set acc; -1 on error */
static int
add_keys(PyObject *acc, PyObject *keys)
{
    PyObject *it = PyObject_GetIter(keys);
    if (it == NULL)
        return -1;
    PyObject *k;
    while ((k = PyIter_Next(it)) != NULL) {
        int r = PySet_Add(acc, k);
        Py_DECREF(k);
        if (r < 0) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *
chunk_words(PyObject *module, PyObject *args)
{
    PyObject *chunks, *memo, *specials, *suffix_marks, *prefix_marks, *rejoin, *general, *key_of, *flagged, *flag,
        *key_one;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "O!O!O!nUUOOOO!OO:chunk_words", &PyList_Type, &chunks, &PyDict_Type, &memo,
                          &PyDict_Type, &specials, &limit, &suffix_marks, &prefix_marks, &rejoin, &general,
                          &key_of, &PyDict_Type, &flagged, &flag, &key_one))
        return NULL;
    if (key_one != Py_None && !PyDict_Check(key_one)) {
        PyErr_SetString(PyExc_TypeError, "key_one must be a dict or None");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(chunks);
    PyObject *words = PyList_New(0);
    /* with key_of: the keys of the text's chunks (a chunk in the memo has none) */
    PyObject *acc = PySet_New(NULL);
    if (words == NULL || acc == NULL) {
        Py_XDECREF(words);
        Py_XDECREF(acc);
        return NULL;
    }
    int missed = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *chunk = PyList_GET_ITEM(chunks, i);
        if (!PyUnicode_Check(chunk)) {
            PyErr_Format(PyExc_TypeError, "chunks must be str, not %.100s", Py_TYPE(chunk)->tp_name);
            goto error;
        }
        PyObject *toks = PyDict_GetItemWithError(memo, chunk); /* borrowed; no __missing__ */
        if (toks != NULL) {
            Py_INCREF(toks);
        } else {
            if (PyErr_Occurred())
                goto error;
            missed = 1;
            if (key_of != Py_None) {
                /* a chunk with keys is kept apart, in flagged: (tokens, keys) */
                PyObject *hit = PyDict_GetItemWithError(flagged, chunk); /* borrowed */
                if (hit == NULL && PyErr_Occurred())
                    goto error;
                if (hit != NULL) {
                    if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 2) {
                        PyErr_SetString(PyExc_TypeError, "flagged chunks must map to (tokens, keys)");
                        goto error;
                    }
                    if (add_keys(acc, PyTuple_GET_ITEM(hit, 1)) < 0)
                        goto error;
                    toks = PyTuple_GET_ITEM(hit, 0);
                    Py_INCREF(toks);
                    goto append;
                }
            }
            if (PyDict_GET_SIZE(memo) < limit) {
                toks = simple_tokens(chunk, specials, suffix_marks, prefix_marks);
                if (toks == NULL && !PyErr_Occurred() && PyDict_Contains(specials, chunk) == 0) {
                    /* WordSplitter._chunk: _plain, else the general rules; special cases cut
                     * by the affixes put back together when there are more than two tokens */
                    toks = plain_tokens(chunk, specials, suffix_marks, prefix_marks);
                    if (toks == NULL && !PyErr_Occurred())
                        toks = PyObject_CallOneArg(general, chunk);
                    else if (toks != NULL && PyTuple_GET_SIZE(toks) > 2) {
                        PyObject *joined = PyObject_CallOneArg(rejoin, toks);
                        Py_DECREF(toks);
                        toks = joined;
                    }
                }
                if (toks == NULL && PyErr_Occurred())
                    goto error;
                if (toks != NULL && key_of != Py_None) {
                    PyObject *keys = ascii_keys(chunk, key_one);
                    if (keys == NULL && !PyErr_Occurred())
                        keys = PyObject_CallOneArg(key_of, chunk);
                    int has_keys = keys == NULL ? -1 : PyObject_IsTrue(keys);
                    if (has_keys > 0) {
                        /* flag(chunk, tokens, keys) stores it apart, making room as Python does */
                        PyObject *r = PyObject_CallFunctionObjArgs(flag, chunk, toks, keys, NULL);
                        Py_XDECREF(r);
                        has_keys = (r == NULL || add_keys(acc, keys) < 0) ? -1 : 1;
                    }
                    Py_XDECREF(keys);
                    if (has_keys < 0) {
                        Py_DECREF(toks);
                        goto error;
                    }
                    if (has_keys)
                        goto append;
                }
                if (toks != NULL && PyDict_SetItem(memo, chunk, toks) < 0) {
                    Py_DECREF(toks);
                    goto error;
                }
            }
            if (toks == NULL) {
                toks = PyObject_GetItem(memo, chunk); /* the memo's __missing__: the general rules */
                if (toks == NULL)
                    goto error;
                if (key_of != Py_None) {
                    PyObject *keys = PyObject_CallOneArg(key_of, chunk);
                    int failed = keys == NULL || add_keys(acc, keys) < 0;
                    Py_XDECREF(keys);
                    if (failed) {
                        Py_DECREF(toks);
                        goto error;
                    }
                }
            }
        }
    append:
        if (!PyTuple_Check(toks)) {
            PyErr_SetString(PyExc_TypeError, "the memo must hold tuples of tokens");
            Py_DECREF(toks);
            goto error;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(toks); j++) {
            if (PyList_Append(words, PyTuple_GET_ITEM(toks, j)) < 0) {
                Py_DECREF(toks);
                goto error;
            }
        }
        Py_DECREF(toks);
    }
    return Py_BuildValue("(NON)", words, missed ? Py_True : Py_False, acc);
error:
    Py_DECREF(words);
    Py_DECREF(acc);
    return NULL;
}


/* feed a chunk's kinds ("e", "p", "w" characters) to the sentence-start machine */
static int
feed_kinds(PyObject *kinds, int *open, Py_ssize_t *count)
{
    if (!PyUnicode_Check(kinds)) {
        PyErr_SetString(PyExc_TypeError, "chunk kinds must be str");
        return -1;
    }
    int kind = PyUnicode_KIND(kinds);
    const void *data = PyUnicode_DATA(kinds);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(kinds); i < n; i++) {
        Py_UCS4 k = PyUnicode_READ(kind, data, i);
        if (k == 'e')
            *open = 1;
        else if (k == 'w' && *open) {
            (*count)++;
            *open = 0;
        }
    }
    return 0;
}

/* the sentence starts after the first token of one line (see c4_boundaries); -1 on error */
static int
line_boundaries(PyObject *line, PyObject *chunk_kinds, const CharSet *e, Py_ssize_t *count)
{
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "lines must be str");
        return -1;
    }
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line), i = 0;
    int open = 0; /* an "e" seen, no "w" since */
    while (i < n) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(ch)) {
            Py_ssize_t start = i;
            while (i < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
                i++;
            /* a run other than one plain space is a token of its own, a "w" */
            if (!(i - start == 1 && ch == ' ') && open) {
                (*count)++;
                open = 0;
            }
            continue;
        }
        Py_ssize_t start = i;
        int end = 0, alnum = 0;
        while (i < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (Py_UNICODE_ISSPACE(c))
                break;
            end |= charset_has(e, c);
            alnum |= Py_UNICODE_ISALNUM(c) != 0;
            i++;
        }
        if (!end && alnum) {
            if (open) {
                (*count)++;
                open = 0;
            }
            continue;
        }
        PyObject *chunk = PyUnicode_Substring(line, start, i);
        if (chunk == NULL)
            return -1;
        PyObject *kinds = PyDict_GetItemWithError(chunk_kinds, chunk); /* borrowed */
        if (kinds != NULL)
            Py_INCREF(kinds);
        else if (!PyErr_Occurred())
            kinds = PyObject_GetItem(chunk_kinds, chunk); /* the memo's __missing__ */
        Py_DECREF(chunk);
        if (kinds == NULL)
            return -1;
        int failed = feed_kinds(kinds, &open, count);
        Py_DECREF(kinds);
        if (failed)
            return -1;
    }
    return 0;
}

static PyObject *
c4_boundaries(PyObject *module, PyObject *args)
{
    PyObject *lines, *chunk_kinds, *end_str;
    if (!PyArg_ParseTuple(args, "O!O!U:c4_boundaries", &PyList_Type, &lines, &PyDict_Type, &chunk_kinds, &end_str))
        return NULL;
    CharSet e;
    charset_init(&e, end_str);
    Py_ssize_t count = 0;
    for (Py_ssize_t li = 0; li < PyList_GET_SIZE(lines); li++) {
        if (line_boundaries(PyList_GET_ITEM(lines, li), chunk_kinds, &e, &count) < 0)
            return NULL;
    }
    return PyLong_FromSsize_t(count);
}

static PyObject *
c4_lines(PyObject *module, PyObject *args)
{
    PyObject *lines, *chunk_kinds, *end_str;
    Py_ssize_t min_words, max_word;
    if (!PyArg_ParseTuple(args, "O!O!Unn:c4_lines", &PyList_Type, &lines, &PyDict_Type, &chunk_kinds, &end_str,
                          &min_words, &max_word))
        return NULL;
    CharSet e;
    charset_init(&e, end_str);
    Py_ssize_t kept = 0, count = 0;
    for (Py_ssize_t li = 0; li < PyList_GET_SIZE(lines); li++) {
        PyObject *line = PyList_GET_ITEM(lines, li);
        if (!PyUnicode_Check(line)) {
            PyErr_SetString(PyExc_TypeError, "lines must be str");
            return NULL;
        }
        int kind = PyUnicode_KIND(line);
        const void *data = PyUnicode_DATA(line);
        Py_ssize_t n = PyUnicode_GET_LENGTH(line), chunks = 0, longest = 0, run = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
                run = 0;
            } else if (++run == 1) {
                chunks++;
            }
            if (run > longest)
                longest = run;
        }
        if (chunks < min_words || longest > max_word || n == 0)
            continue;
        Py_UCS4 last = PyUnicode_READ(kind, data, n - 1);
        if (last == ']')
            continue; /* no "[" in these lines: removing citation markers leaves the "]" */
        if (n >= 3 && last == '.' && PyUnicode_READ(kind, data, n - 2) == '.' && PyUnicode_READ(kind, data, n - 3) == '.')
            continue;
        kept++;
        if (line_boundaries(line, chunk_kinds, &e, &count) < 0)
            return NULL;
    }
    return Py_BuildValue("(nn)", kept, count);
}

static PyMethodDef methods[] = {
    {"c4_lines", c4_lines, METH_VARARGS,
     "c4_lines(lines, chunk_kinds, ends, min_words, max_word) -> (kept, sentence starts after each kept line's first token)"},
    {"c4_boundaries", c4_boundaries, METH_VARARGS,
     "c4_boundaries(lines, chunk_kinds, ends) -> the sentence starts after each line's first token"},
    {"chunk_words", chunk_words, METH_VARARGS,
     "chunk_words(chunks, memo, specials, limit, suffix_marks, prefix_marks, rejoin, general, key_of, flagged, "
     "flag, key_one) -> (words, missed, keys)"},
    {"word_counts", word_counts, METH_VARARGS,
     "word_counts(words, stop_words, symbol_chars) -> (other, symbols, symbol_chars, "
     "other_with_letter, stop_words_found): Gopher's quality counts"},
    {"repetition", repetition, METH_O,
     "repetition(words) -> (top2, top3, top4, dup5, ..., dup10): Gopher's n-gram repetition in characters"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_quality_c", "The quality stage's per-word loops, compiled (see quality.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__quality_c(void)
{
    return PyModule_Create(&module);
}
