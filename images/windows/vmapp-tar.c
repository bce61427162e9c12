/*
 * vmapp-tar: the wine stand-in's C:\Windows\System32\tar.exe, for zip archives only.
 *
 * Windows 10 1803+ and Server 2019+ ship bsdtar (libarchive) as tar.exe, and publishers extract
 * zip packages with it (tar -xf myapp.zip -C C:\myapp).  Wine has no tar.exe.  This is the part
 * of bsdtar that such commands use, so that the stand-in runs them for real:
 *
 *   tar -x [-v] [-m] -f FILE [-C DIR]     also bundled (xf FILE), clustered (-xvf FILE) and
 *                                         long (--extract --file[=]FILE --directory[=]DIR --cd)
 *
 * What bsdtar does, it does: the archive is opened before changing to DIR (several -C join as
 * bsdtar joins them); entries are read through the central directory (so entries written with
 * data descriptors are read right); stored (0) and deflated (8) data is written and CRC-32
 * checked; names are UTF-8 when the entry's flag says so, else in the OEM code page; a leading
 * drive letter, '/' or '\' is stripped with one warning; an entry with a '..' component is not
 * written ("Path contains '..'"); a failed entry does not stop the others, and the exit status
 * is then 1 ("Error exit delayed from previous errors.").  Existing files are overwritten and
 * file times restored (not folders'); an empty file is an empty archive.  Messages read like
 * bsdtar's.
 *
 * Everything else exits 1 with a message saying so, never a silent success: creating, listing
 * or updating archives, formats other than zip, other compression methods, encrypted entries,
 * ZIP64, symbolic links, reading standard input, name patterns and other options.
 *
 * Built with: x86_64-w64-mingw32-gcc -municode -O2 -s ... -o tar.exe vmapp-tar.c -static -lz
 */
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <zlib.h>

#define STANDIN L"the stand-in's tar.exe"
#define ONLY L"zip extraction only: tar -x [-v] [-m] -f FILE [-C DIR]"
#define PATH_CHARS 32768

static const wchar_t *progname = L"tar";
static int failed;  /* an entry failed: exit 1 at the end, as bsdtar does */

struct options {
    int extract, verbose, no_mtime;
    const wchar_t *file;
    wchar_t dir[PATH_CHARS];  /* the pending -C, empty if none */
};

struct archive {
    const unsigned char *data;
    ULONGLONG size;
};

struct entry {
    unsigned host, flags, method, dos_time, dos_date, name_len, extra_len;
    unsigned long crc, attributes;
    ULONGLONG csize, usize, local;
    const unsigned char *name, *extra;
};

static void say(const wchar_t *format, va_list args)
{
    fwprintf(stderr, L"%ls: ", progname);
    vfwprintf(stderr, format, args);
    fputwc(L'\n', stderr);
}

static void warn(const wchar_t *format, ...)
{
    va_list args;
    va_start(args, format);
    say(format, args);
    va_end(args);
}

static __attribute__((noreturn)) void die(const wchar_t *format, ...)
{
    va_list args;
    va_start(args, format);
    say(format, args);
    va_end(args);
    exit(1);
}

/* One entry's outcome the way bsdtar prints it: "x NAME" with -v, "NAME: error" on failure. */
static void report(const struct options *opt, const wchar_t *name, const wchar_t *error)
{
    if (opt->verbose)
        fwprintf(stderr, L"x %ls", name);
    if (error != NULL) {
        if (!opt->verbose)
            fwprintf(stderr, L"%ls", name);
        fwprintf(stderr, L": %ls", error);
        failed = 1;
    }
    if (opt->verbose || error != NULL)
        fputwc(L'\n', stderr);
}

static unsigned le16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long le32(const unsigned char *p)
{
    return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/* ---- the command line, as bsdtar reads it ---- */

static void set_dir(struct options *opt, const wchar_t *dir)
{
    int absolute = dir[0] == L'/' || dir[0] == L'\\'
        || (iswalpha(dir[0]) && dir[1] == L':' && (dir[2] == L'/' || dir[2] == L'\\'));
    if (absolute || opt->dir[0] == L'\0')
        opt->dir[0] = L'\0';
    else if (wcslen(opt->dir) + 1 < PATH_CHARS)
        wcscat(opt->dir, L"/");  /* -C a -C b is a/b */
    if (wcslen(opt->dir) + wcslen(dir) >= PATH_CHARS)
        die(L"could not chdir to '%ls': name too long", dir);
    wcscat(opt->dir, dir);
}

/* One option; ARG is its argument (NULL when the option takes none). */
static void option(struct options *opt, wchar_t letter, const wchar_t *arg)
{
    switch (letter) {
    case L'x': opt->extract = 1; break;
    case L'v': opt->verbose = 1; break;
    case L'm': opt->no_mtime = 1; break;
    case L'f': opt->file = arg; break;
    case L'C': set_dir(opt, arg); break;
    default:  /* -c, -t, -r, -u and every other option */
        die(L"Option -%lc is not supported by " STANDIN L" (" ONLY L")", letter);
    }
}

static int takes_argument(wchar_t letter) { return letter == L'f' || letter == L'C'; }

static const wchar_t *next_word(int argc, wchar_t **argv, int *at, const wchar_t *what)
{
    if (*at >= argc)
        die(L"Option %ls requires an argument", what);
    return argv[(*at)++];
}

static void help(void)
{
    wprintf(L"%ls: " STANDIN L", " ONLY L"\n  --version  --help\n", progname);
    exit(0);
}

static void long_option(struct options *opt, const wchar_t *word, int argc, wchar_t **argv,
                        int *at)
{
    static const struct { const wchar_t *name; wchar_t letter; } names[] = {
        {L"extract", L'x'}, {L"verbose", L'v'}, {L"modification-time", L'm'},
        {L"file", L'f'}, {L"directory", L'C'}, {L"cd", L'C'}};
    if (wcscmp(word, L"help") == 0)
        help();
    if (wcscmp(word, L"version") == 0) {
        wprintf(L"vmapp-tar (the wine stand-in's tar.exe in place of bsdtar; zip only)\n");
        exit(0);
    }
    const wchar_t *equals = wcschr(word, L'=');
    size_t length = equals ? (size_t)(equals - word) : wcslen(word);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (wcslen(names[i].name) != length || wcsncmp(names[i].name, word, length) != 0)
            continue;
        if (!takes_argument(names[i].letter)) {
            if (equals)
                die(L"Option --%ls does not take an argument", names[i].name);
            option(opt, names[i].letter, NULL);
        } else {
            option(opt, names[i].letter,
                   equals ? equals + 1 : next_word(argc, argv, at, argv[*at - 1]));
        }
        return;
    }
    die(L"Option --%.*ls is not supported by " STANDIN L" (" ONLY L")", (int)length, word);
}

static void parse(struct options *opt, int argc, wchar_t **argv)
{
    int at = 1;
    if (argc > 1 && argv[1][0] != L'-') {  /* bundled: "xf FILE" */
        const wchar_t *letters = argv[at++];
        for (; *letters; letters++) {
            wchar_t what[3] = {L'-', *letters, L'\0'};
            option(opt, *letters,
                   takes_argument(*letters) ? next_word(argc, argv, &at, what) : NULL);
        }
    }
    while (at < argc && argv[at][0] == L'-') {  /* bsdtar stops at the first operand */
        const wchar_t *word = argv[at++];
        if (wcscmp(word, L"--") == 0)
            break;
        if (word[1] == L'-') {
            long_option(opt, word + 2, argc, argv, &at);
            continue;
        }
        if (word[1] == L'\0')
            die(L"Option - is not supported by " STANDIN L" (" ONLY L")");
        for (const wchar_t *letter = word + 1; *letter; letter++) {
            if (!takes_argument(*letter)) {
                option(opt, *letter, NULL);
                continue;
            }
            wchar_t what[3] = {L'-', *letter, L'\0'};
            option(opt, *letter, letter[1] ? letter + 1 : next_word(argc, argv, &at, what));
            break;
        }
    }
    if (at < argc)
        die(L"'%ls': name patterns are not supported by " STANDIN L" (" ONLY L")", argv[at]);
    if (!opt->extract)
        die(L"Must specify one of -c, -r, -t, -u, -x");
    if (opt->file == NULL || wcscmp(opt->file, L"-") == 0)
        die(L"-f FILE is required by " STANDIN L": it reads no standard input and no tape ("
            ONLY L")");
}

/* ---- the archive ---- */

static void open_archive(const wchar_t *path, struct archive *zip)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER size;
    if (file == INVALID_HANDLE_VALUE || !GetFileSizeEx(file, &size))
        die(L"Error opening archive: Failed to open '%ls'", path);
    zip->size = (ULONGLONG)size.QuadPart;
    zip->data = NULL;
    if (zip->size > 0) {
        HANDLE map = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
        zip->data = map ? MapViewOfFile(map, FILE_MAP_READ, 0, 0, 0) : NULL;
        if (zip->data == NULL)
            die(L"Error opening archive: Failed to read '%ls' (error %lu)", path,
                GetLastError());
        CloseHandle(map);  /* the view keeps the file mapped */
    }
    CloseHandle(file);
}

/* The end of central directory record, searched from the end (it may carry a comment). */
static const unsigned char *find_end(const struct archive *zip)
{
    if (zip->size < 22)
        return NULL;
    ULONGLONG low = zip->size > 22 + 65535 ? zip->size - 22 - 65535 : 0;
    for (ULONGLONG at = zip->size - 22 + 1; at-- > low;) {
        const unsigned char *p = zip->data + at;
        if (le32(p) == 0x06054b50 && at + 22 + le16(p + 20) <= zip->size)
            return p;
    }
    return NULL;
}

/* ---- one entry ---- */

/* The entry's name in UTF-16, or NULL (then *error says why). */
static wchar_t *wide_name(const struct entry *e, const wchar_t **error)
{
    UINT page = (e->flags & 0x800) ? CP_UTF8 : CP_OEMCP;
    if (e->name_len == 0 || memchr(e->name, 0, e->name_len) != NULL) {
        *error = L"Invalid empty pathname";
        return NULL;
    }
    int chars = MultiByteToWideChar(page, MB_ERR_INVALID_CHARS, (const char *)e->name,
                                    (int)e->name_len, NULL, 0);
    if (chars == 0) {
        *error = L"Pathname cannot be converted from UTF-8 to current locale.";
        return NULL;
    }
    wchar_t *name = calloc((size_t)chars + 1, sizeof(wchar_t));
    if (name == NULL)
        die(L"Out of memory");
    MultiByteToWideChar(page, 0, (const char *)e->name, (int)e->name_len, name, chars);
    return name;
}

/* bsdtar's strip_absolute_path (Windows build): drive letters and leading separators go, with
 * one warning for the whole run. */
static const wchar_t *strip_absolute(const wchar_t *p)
{
    static int warned;
    const wchar_t *start;
    do {
        start = p;
        if (iswalpha(p[0]) && p[1] == L':') {
            p += 2;
            if (!warned++)
                warn(L"Removing leading drive letter from member names");
        }
        while (p[0] == L'/' || p[0] == L'\\') {
            wchar_t first = p[0];
            if (p[1] == L'.' && p[2] == L'.' && (p[3] == L'/' || p[3] == L'\\'))
                p += 3;
            else if (p[1] == L'.' && (p[2] == L'/' || p[2] == L'\\'))
                p += 2;
            else
                p += 1;
            if (!warned++)
                warn(L"Removing leading '%lc' from member names", first);
        }
    } while (p != start);
    return p;
}

/* The relative Windows path NAME is written to, '\'-separated, in OUT; an error or NULL. */
static const wchar_t *output_path(const wchar_t *name, wchar_t *out)
{
    size_t used = 0;
    out[0] = L'\0';
    for (const wchar_t *part = name; *part;) {
        size_t length = wcscspn(part, L"/\\");
        if (length == 2 && part[0] == L'.' && part[1] == L'.')
            return L"Path contains '..'";
        if (length > 0 && !(length == 1 && part[0] == L'.')) {
            if (used + length + 2 >= PATH_CHARS)
                return L"Pathname too long";
            if (used)
                out[used++] = L'\\';
            for (size_t i = 0; i < length; i++) {  /* as libarchive: no invalid characters */
                wchar_t c = part[i];
                out[used++] = (c < 32 || wcschr(L":*?\"<>|", c)) ? L'_' : c;
            }
            out[used] = L'\0';
        }
        part += length;
        if (*part)
            part++;
    }
    return NULL;
}

static int is_directory(const wchar_t *path)
{
    DWORD attributes = GetFileAttributesW(path);
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY);
}

/* Make PATH's folders, or all of PATH with WHOLE; an error or NULL. */
static const wchar_t *make_folders(wchar_t *path, int whole, wchar_t *error, size_t size)
{
    for (wchar_t *p = path;; p++) {
        int end = *p == L'\0';
        if (*p == L'\\' || (end && whole)) {
            wchar_t kept = *p;
            *p = L'\0';
            int made = CreateDirectoryW(path, NULL);
            DWORD code = made ? 0 : GetLastError();
            made = made || is_directory(path);
            if (!made)
                _snwprintf(error, size, L"Can't create directory '%ls' (error %lu)", path, code);
            *p = kept;
            if (!made)
                return error;
        }
        if (end)
            return NULL;
    }
}

static unsigned long extra_mtime(const struct entry *e, int *found)
{
    for (const unsigned char *p = e->extra; p + 4 <= e->extra + e->extra_len;) {
        unsigned id = le16(p), size = le16(p + 2);
        if (p + 4 + size > e->extra + e->extra_len)
            break;
        if (id == 0x5455 && size >= 5 && (p[4] & 1)) {
            *found = 1;
            return le32(p + 5);
        }
        p += 4 + size;
    }
    *found = 0;
    return 0;
}

static void set_time(HANDLE file, const struct entry *e)
{
    FILETIME when, local;
    int found;
    unsigned long unix_time = extra_mtime(e, &found);
    if (found) {  /* Info-ZIP's extended timestamp: seconds since 1970, UTC */
        ULONGLONG ticks = ((ULONGLONG)(LONGLONG)(long)unix_time + 11644473600ULL) * 10000000ULL;
        when.dwLowDateTime = (DWORD)ticks;
        when.dwHighDateTime = (DWORD)(ticks >> 32);
    } else if (!DosDateTimeToFileTime((WORD)e->dos_date, (WORD)e->dos_time, &local)
               || !LocalFileTimeToFileTime(&local, &when)) {
        return;
    }
    SetFileTime(file, NULL, NULL, &when);
}

/* 0, or the Windows error code of the write that failed. */
static DWORD write_all(HANDLE file, const unsigned char *data, size_t size)
{
    while (size > 0) {
        DWORD chunk = size > (1u << 20) ? (1u << 20) : (DWORD)size, wrote = 0;
        if (!WriteFile(file, data, chunk, &wrote, NULL))
            return GetLastError();
        if (wrote != chunk)
            return ERROR_DISK_FULL;
        data += chunk;
        size -= chunk;
    }
    return 0;
}

/* Write the entry's data to FILE; an error (in ERROR) or NULL. */
static const wchar_t *write_data(HANDLE file, const struct entry *e, const unsigned char *data,
                                 wchar_t *error, size_t size)
{
    unsigned long crc = crc32(0L, Z_NULL, 0);
    ULONGLONG total = 0;
    DWORD failure = 0;
    if (e->method == 0) {
        if (e->csize != e->usize)
            return L"ZIP stored entry's sizes differ";
        for (ULONGLONG at = 0; at < e->csize; at += 1u << 20) {
            uInt chunk = (uInt)(e->csize - at > (1u << 20) ? (1u << 20) : e->csize - at);
            crc = crc32(crc, data + at, chunk);
            if ((failure = write_all(file, data + at, chunk)) != 0)
                goto write_failed;
        }
        total = e->csize;
    } else {
        static unsigned char out[1 << 16];
        z_stream z;
        memset(&z, 0, sizeof(z));
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)e->csize;
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
            return L"ZIP decompression failed (cannot start zlib)";
        int status = Z_OK;
        while (status == Z_OK) {  /* Z_BUF_ERROR: no progress, the data ended too soon */
            z.next_out = out;
            z.avail_out = sizeof(out);
            status = inflate(&z, Z_NO_FLUSH);
            size_t got = sizeof(out) - z.avail_out;
            crc = crc32(crc, out, (uInt)got);
            total += got;
            if (got && (failure = write_all(file, out, got)) != 0) {
                inflateEnd(&z);
                goto write_failed;
            }
        }
        inflateEnd(&z);
        if (status == Z_BUF_ERROR)
            return L"Truncated ZIP file data";
        if (status != Z_STREAM_END) {
            _snwprintf(error, size, L"ZIP decompression failed (%d)", status);
            return error;
        }
    }
    if (total != e->usize) {
        _snwprintf(error, size, L"ZIP uncompressed data is wrong size (read %llu, expected "
                   L"%llu)", total, e->usize);
        return error;
    }
    if (crc != e->crc) {
        _snwprintf(error, size, L"ZIP bad CRC: 0x%lx should be 0x%lx", crc, e->crc);
        return error;
    }
    return NULL;
write_failed:
    _snwprintf(error, size, L"Write failed (error %lu)", failure);
    return error;
}

static const wchar_t *method_name(unsigned method)
{
    switch (method) {
    case 1: return L"shrinking";
    case 6: return L"imploding";
    case 9: return L"deflation-64-bit";
    case 12: return L"bzip2";
    case 14: return L"lzma";
    case 93: return L"zstd";
    case 95: return L"xz";
    case 96: return L"jpeg";
    case 97: return L"wav-pack";
    case 98: return L"ppmd-1";
    case 99: return L"aes";
    default: return L"unknown";
    }
}

/* Write one entry where DIR says; its error or NULL. */
static const wchar_t *extract(const struct archive *zip, const struct entry *e,
                              const struct options *opt, const wchar_t *name, wchar_t *error,
                              size_t size)
{
    static wchar_t path[PATH_CHARS];
    const wchar_t *problem = output_path(name, path);
    if (problem != NULL || path[0] == L'\0')
        return problem;  /* "." itself: nothing to write */
    unsigned long mode = e->host == 3 ? (e->attributes >> 16) & 0170000 : 0;
    size_t last = wcslen(name) - 1;
    if (mode == 0120000)
        return L"Symbolic links are not supported by " STANDIN;
    if (name[last] == L'/' || name[last] == L'\\' || mode == 0040000
        || (e->host == 0 && (e->attributes & FILE_ATTRIBUTE_DIRECTORY)))
        return make_folders(path, 1, error, size);
    if (e->flags & 1)
        return L"Encrypted entries are not supported by " STANDIN;
    if (e->method != 0 && e->method != 8) {
        _snwprintf(error, size, L"Unsupported ZIP compression method (%u: %ls); " STANDIN
                   L" reads stored and deflated entries only", e->method,
                   method_name(e->method));
        return error;
    }
    const unsigned char *local = zip->data + e->local;
    if (e->local + 30 > zip->size || le32(local) != 0x04034b50)
        return L"Damaged ZIP archive: bad local file header";
    ULONGLONG start = e->local + 30 + le16(local + 26) + le16(local + 28);
    if (start + e->csize > zip->size)
        return L"Truncated ZIP file data";
    if ((problem = make_folders(path, 0, error, size)) != NULL)
        return problem;
    if (is_directory(path)) {
        _snwprintf(error, size, L"Can't create '%ls': a folder of that name exists", path);
        return error;
    }
    HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        _snwprintf(error, size, L"Can't create '%ls' (error %lu)", path, GetLastError());
        return error;
    }
    problem = write_data(file, e, zip->data + start, error, size);
    if (problem == NULL && !opt->no_mtime)
        set_time(file, e);
    CloseHandle(file);
    return problem;
}

static void read_entry(const unsigned char *p, struct entry *e)
{
    e->host = p[5];
    e->flags = le16(p + 8);
    e->method = le16(p + 10);
    e->dos_time = le16(p + 12);
    e->dos_date = le16(p + 14);
    e->crc = le32(p + 16);
    e->csize = le32(p + 20);
    e->usize = le32(p + 24);
    e->name_len = le16(p + 28);
    e->extra_len = le16(p + 30);
    e->attributes = le32(p + 38);
    e->local = le32(p + 42);
    e->name = p + 46;
    e->extra = e->name + e->name_len;
}

static void change_dir(const struct options *opt)
{
    if (opt->dir[0] != L'\0' && !SetCurrentDirectoryW(opt->dir))
        die(L"could not chdir to '%ls'", opt->dir);
}

static void extract_all(const struct archive *zip, const struct options *opt)
{
    if (zip->size == 0) {  /* bsdtar reads an empty file as an empty archive */
        change_dir(opt);
        return;
    }
    const unsigned char *end = find_end(zip);
    if (end == NULL)
        die(L"Error opening archive: Unrecognized archive format (" STANDIN
            L" reads zip archives only)");
    unsigned total = le16(end + 10);
    ULONGLONG cd_size = le32(end + 12), cd_offset = le32(end + 16);
    if (total == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF)
        die(L"Error reading archive: ZIP64 archives are not supported by " STANDIN);
    if (le16(end + 4) != 0 || le16(end + 6) != 0 || le16(end + 8) != total)
        die(L"Error reading archive: multi-volume ZIP archives are not supported");
    if (cd_offset + cd_size > (ULONGLONG)(end - zip->data))
        die(L"Error reading archive: Damaged ZIP archive: central directory outside the file");
    const unsigned char *p = zip->data + cd_offset, *stop = p + cd_size;
    change_dir(opt);
    static wchar_t error[PATH_CHARS + 256];
    for (unsigned i = 0; i < total; i++) {
        if (stop - p < 46 || le32(p) != 0x02014b50)
            die(L"Error reading archive: Damaged ZIP archive: central directory entry %u of %u",
                i + 1, total);
        struct entry e;
        read_entry(p, &e);
        size_t length = 46 + (size_t)e.name_len + e.extra_len + le16(p + 32);
        if ((size_t)(stop - p) < length)
            die(L"Error reading archive: Damaged ZIP archive: central directory entry %u of %u",
                i + 1, total);
        const wchar_t *problem;
        wchar_t *name = wide_name(&e, &problem);
        if (name == NULL) {
            report(opt, L"(unreadable name)", problem);
        } else {
            const wchar_t *relative = strip_absolute(name);
            const wchar_t *shown = *relative ? relative : L".";
            report(opt, shown, extract(zip, &e, opt, relative, error,
                                       sizeof(error) / sizeof(error[0])));
            free(name);
        }
        p += length;
    }
}

int wmain(int argc, wchar_t **argv)
{
    if (argc > 0 && argv[0][0] != L'\0') {
        const wchar_t *slash = wcsrchr(argv[0], L'\\'), *other = wcsrchr(argv[0], L'/');
        progname = other > slash ? other + 1 : slash ? slash + 1 : argv[0];
    }
    static struct options opt;
    parse(&opt, argc, argv);
    struct archive zip;
    open_archive(opt.file, &zip);
    extract_all(&zip, &opt);
    if (failed)
        die(L"Error exit delayed from previous errors.");
    return 0;
}
