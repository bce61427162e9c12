/*
 * vmapp-launch: run one command string through cmd.exe exactly as written.
 *
 *   vmapp-launch.exe COMMAND_FILE STDOUT_FILE STDERR_FILE EXIT_CODE_FILE
 *
 * COMMAND_FILE holds the command string in UTF-8 (no quoting layer in between: a '"' stays a
 * '"').  The launcher calls CreateProcessW("cmd.exe /c " + string) in its own current folder,
 * with stdin from NUL and stdout/stderr going to the two files (files, not pipes: a background
 * child that keeps a pipe open hangs whoever reads it), waits for cmd.exe, and writes its full
 * 32-bit exit code in decimal to EXIT_CODE_FILE (wine hands exit codes to Linux modulo 256, so
 * 3010 would arrive as 194).  The launcher then exits with the same code.  When the launcher
 * itself fails it writes no EXIT_CODE_FILE, says why on its stderr and exits 255.
 *
 * Built with: x86_64-w64-mingw32-gcc -municode -O2 -s -o vmapp-launch.exe vmapp-launch.c
 */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

static int fail(const wchar_t *what, const wchar_t *name)
{
    fwprintf(stderr, L"vmapp-launch: %ls %ls: error %lu\n", what, name, GetLastError());
    return 255;
}

static wchar_t *read_command(const wchar_t *path)
{
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return NULL;
    LARGE_INTEGER size;
    char *bytes = NULL;
    DWORD got = 0;
    BOOL read = GetFileSizeEx(file, &size) && size.QuadPart < 1024 * 1024
        && (bytes = HeapAlloc(GetProcessHeap(), 0, (SIZE_T)size.QuadPart + 1)) != NULL
        && ReadFile(file, bytes, (DWORD)size.QuadPart, &got, NULL) && got == size.QuadPart;
    CloseHandle(file);
    if (!read)
        return NULL;
    static const wchar_t prefix[] = L"cmd.exe /c ";
    size_t start = wcslen(prefix);
    int chars = got ? MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, bytes, (int)got,
                                          NULL, 0) : 0;
    if (got && chars == 0)
        return NULL;
    wchar_t *line = HeapAlloc(GetProcessHeap(), 0, (start + chars + 1) * sizeof(wchar_t));
    if (line == NULL)
        return NULL;
    wcscpy(line, prefix);
    if (got)
        MultiByteToWideChar(CP_UTF8, 0, bytes, (int)got, line + start, chars);
    line[start + chars] = L'\0';
    return line;
}

static HANDLE open_inheritable(const wchar_t *path, DWORD access, DWORD disposition)
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    return CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, disposition,
                       FILE_ATTRIBUTE_NORMAL, NULL);
}

int wmain(int argc, wchar_t **argv)
{
    if (argc != 5) {
        fwprintf(stderr, L"usage: vmapp-launch COMMAND_FILE STDOUT_FILE STDERR_FILE "
                         L"EXIT_CODE_FILE\n");
        return 255;
    }
    wchar_t *line = read_command(argv[1]);
    if (line == NULL)
        return fail(L"cannot read UTF-8 command from", argv[1]);
    STARTUPINFOW si;
    ZeroMemory(&si, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = open_inheritable(L"NUL", GENERIC_READ, OPEN_EXISTING);
    si.hStdOutput = open_inheritable(argv[2], GENERIC_WRITE, CREATE_ALWAYS);
    if (si.hStdOutput == INVALID_HANDLE_VALUE)
        return fail(L"cannot create", argv[2]);
    si.hStdError = open_inheritable(argv[3], GENERIC_WRITE, CREATE_ALWAYS);
    if (si.hStdError == INVALID_HANDLE_VALUE)
        return fail(L"cannot create", argv[3]);
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return fail(L"cannot start", line);
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 0;
    if (!GetExitCodeProcess(pi.hProcess, &code))
        return fail(L"cannot read the exit code of", line);
    CloseHandle(pi.hProcess);
    char text[16];
    int length = snprintf(text, sizeof(text), "%lu", (unsigned long)code);
    HANDLE out = CreateFileW(argv[4], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                             FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD wrote = 0;
    if (out == INVALID_HANDLE_VALUE || !WriteFile(out, text, (DWORD)length, &wrote, NULL))
        return fail(L"cannot write", argv[4]);
    CloseHandle(out);
    return (int)code;
}
