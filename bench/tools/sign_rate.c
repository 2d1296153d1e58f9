/*
 * sign_rate.c — how many Ed25519 signatures one core makes per second with
 * libsodium, over a token-sized message. bench/tokens.sh prints it next to
 * the mint rate: no server can mint faster per core than this.
 */
#include <sodium.h>
#include <stdio.h>
#include <time.h>

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES], message[400];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(message, sizeof message);
    const int rounds = 20000;
    double started = seconds_now();
    for (int i = 0; i < rounds; i++) {
        message[i % sizeof message] ^= (unsigned char)i;
        crypto_sign_detached(sig, NULL, message, sizeof message, sk);
    }
    double elapsed = seconds_now() - started;
    printf("%.1f %.0f\n", elapsed / rounds * 1e6, rounds / elapsed);
    return 0;
}
