/* See gcm_sender.h. */
#include "srtp/gcm_sender.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "rtp/rtp.h"

#define KEY_LEN 16
#define SALT_LEN 12
#define LABEL_RTP_ENCRYPTION 0x00 /* RFC 3711 §4.3.2 */
#define LABEL_RTP_SALT 0x02

struct sfu_gcm_sender {
    EVP_CIPHER_CTX *ctx; /* AES-128-GCM, session key set; the IV changes per packet */
    uint8_t salt[SALT_LEN];
};

/* RFC 3711 §4.3: with a key derivation rate of 0 the index part is zero, so the AES-CM
 * PRF's counter block is the master salt (right-padded to 14 octets with zeros, as
 * libsrtp pads the 12-octet AEAD salt) with the label XORed into octet 7, and a 16-bit
 * block counter; out_len ≤ 16 needs only block 0. */
static bool kdf(const uint8_t master_key[KEY_LEN], const uint8_t master_salt[SALT_LEN], uint8_t label, uint8_t *out,
                size_t out_len)
{
    uint8_t block[16] = {0}, stream[32];
    memcpy(block, master_salt, SALT_LEN);
    block[7] ^= label;
    EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = ecb && EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, master_key, NULL) == 1 &&
              EVP_CIPHER_CTX_set_padding(ecb, 0) == 1 && EVP_EncryptUpdate(ecb, stream, &n, block, 16) == 1 &&
              n == 16 && out_len <= 16;
    if (ok) memcpy(out, stream, out_len);
    EVP_CIPHER_CTX_free(ecb);
    explicit_bzero(stream, sizeof stream);
    return ok;
}

sfu_gcm_sender *sfu_gcm_sender_new(const uint8_t master[28])
{
    sfu_gcm_sender *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    uint8_t session_key[KEY_LEN];
    bool ok = kdf(master, master + KEY_LEN, LABEL_RTP_ENCRYPTION, session_key, KEY_LEN) &&
              kdf(master, master + KEY_LEN, LABEL_RTP_SALT, g->salt, SALT_LEN) && (g->ctx = EVP_CIPHER_CTX_new()) &&
              EVP_EncryptInit_ex(g->ctx, EVP_aes_128_gcm(), NULL, session_key, NULL) == 1;
    explicit_bzero(session_key, sizeof session_key);
    if (!ok) {
        sfu_gcm_sender_free(g);
        return NULL;
    }
    return g;
}

void sfu_gcm_sender_free(sfu_gcm_sender *g)
{
    if (!g) return;
    EVP_CIPHER_CTX_free(g->ctx);
    explicit_bzero(g, sizeof *g);
    free(g);
}

/* libsrtp's srtp_rdbx_estimate_index and srtp_index_guess: until the index passes 2^15
 * the rollover counter is taken as 0; after that the guess nearest the newest index. */
uint64_t sfu_srtp_tx_index_next(sfu_srtp_tx_index *state, uint16_t seq, int32_t *delta)
{
    uint64_t local = *state, guess;
    if (local > 32768) {
        uint32_t roc = (uint32_t)(local >> 16), guess_roc = roc;
        uint16_t local_seq = (uint16_t)local;
        if (local_seq < 32768) {
            if ((int32_t)seq - local_seq > 32768) guess_roc = roc - 1;
        } else if ((int32_t)local_seq - 32768 > seq) {
            guess_roc = roc + 1;
        }
        guess = ((uint64_t)guess_roc << 16) | seq;
    } else {
        guess = seq;
    }
    *delta = (int32_t)((int64_t)guess - (int64_t)local);
    if (*delta > 0) *state = guess;
    return guess;
}

bool sfu_gcm_sender_protect(sfu_gcm_sender *g, sfu_srtp_tx_index *state, uint8_t *buf, size_t *len, size_t cap)
{
    sfu_rtp_header h; /* the AAD is the header with CSRCs and extension: up to payload_off */
    if (!sfu_rtp_parse(buf, *len, &h) || cap < *len || cap - *len < SFU_GCM_TAG_LEN || *len > INT32_MAX) return false;
    size_t hlen = h.payload_off;
    sfu_srtp_tx_index before = *state;
    int32_t delta;
    uint64_t index = sfu_srtp_tx_index_next(state, h.seq, &delta);
    if (delta <= -SFU_GCM_WINDOW) return false;

    /* RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt */
    uint8_t iv[SALT_LEN] = {0};
    memcpy(iv + 2, buf + 8, 4);
    uint32_t roc = (uint32_t)(index >> 16);
    iv[6] = (uint8_t)(roc >> 24), iv[7] = (uint8_t)(roc >> 16), iv[8] = (uint8_t)(roc >> 8), iv[9] = (uint8_t)roc;
    iv[10] = buf[2], iv[11] = buf[3];
    for (int i = 0; i < SALT_LEN; i++) iv[i] ^= g->salt[i];

    uint8_t *tag = buf + *len;
    OSSL_PARAM get_tag[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, SFU_GCM_TAG_LEN),
                            OSSL_PARAM_construct_end()};
    int n;
    if (EVP_EncryptInit_ex(g->ctx, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(g->ctx, NULL, &n, buf, (int)hlen) != 1 ||
        (*len > hlen && EVP_EncryptUpdate(g->ctx, buf + hlen, &n, buf + hlen, (int)(*len - hlen)) != 1) ||
        EVP_EncryptFinal_ex(g->ctx, tag, &n) != 1 || EVP_CIPHER_CTX_get_params(g->ctx, get_tag) != 1) {
        *state = before; /* the index was not used */
        return false;
    }
    *len += SFU_GCM_TAG_LEN;
    return true;
}
