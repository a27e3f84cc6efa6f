/*
 * Test-only stand-in for bcryptprimitives.dll, which Wine 8 lacks and every binary built by
 * Rust 1.78 or later imports (ProcessPrng, the system random source). Windows 10 and later
 * ship the real DLL: this file is built for the Wine smoke suite only and never released.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
