/*
 * Opens many AES-256-GCM payloads in one call, with one OpenSSL context reused for all of them.
 *
 * Node's decipher costs several microseconds of set-up per payload whatever its size (a new
 * context, its JavaScript object, the buffers of update and final), which for 10,000 small
 * payloads is most of the time spent. Here the key is set once and each payload only resets the
 * nonce, so a payload costs about what OpenSSL needs to decrypt and authenticate its bytes. The
 * payload format and the associated data are built by payload-cipher.ts; this file only opens.
 *
 *   openBatch(key, payloads, bodyStarts, aad, aadOffsets, out, outOffsets) -> int
 *
 * key         Buffer of 32 bytes
 * payloads    Array of Buffers: header | nonce (12) | tag (16) | ciphertext
 * bodyStarts  Uint32Array: where each payload's nonce starts (the header's length)
 * aad         Buffer holding every payload's associated data, one after another
 * aadOffsets  Uint32Array of payloads + 1 offsets into aad
 * out         Buffer the plaintexts are written to, one after another
 * outOffsets  Uint32Array of payloads + 1 offsets into out
 *
 * Returns -1 when every payload opened, or the index of the first one that did not (its
 * authentication failed); the caller then opens that one again the slow way for its error.
 * Arguments that do not fit together throw a TypeError or RangeError.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define KEY_BYTES 32
#define ARG_COUNT 7

typedef struct {
  uint8_t *data;
  size_t length;
} bytes_t;

typedef struct {
  const uint32_t *values;
  size_t length;
} offsets_t;

static napi_value fail(napi_env env, int is_range, const char *message) {
  if (is_range) {
    napi_throw_range_error(env, NULL, message);
  } else {
    napi_throw_type_error(env, NULL, message);
  }
  return NULL;
}

static int read_buffer(napi_env env, napi_value value, bytes_t *bytes) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_buffer_info(env, value, (void **)&bytes->data, &bytes->length) == napi_ok;
}

static int read_offsets(napi_env env, napi_value value, offsets_t *offsets) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value array_buffer;
  size_t byte_offset;
  void *data;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, &offsets->length, &data, &array_buffer,
                               &byte_offset) != napi_ok) {
    return 0;
  }
  offsets->values = (const uint32_t *)data;
  return type == napi_uint32_array;
}

/* Whether offsets rise from 0 and end within a buffer of `limit` bytes. */
static int offsets_fit(const offsets_t *offsets, size_t count, size_t limit) {
  if (offsets->length != count + 1 || offsets->values[0] != 0) return 0;
  for (size_t i = 0; i < count; i++) {
    if (offsets->values[i + 1] < offsets->values[i]) return 0;
  }
  return offsets->values[count] <= limit;
}

/* Opens payload `i`; 1 when it decrypted and authenticated. */
static int open_one(EVP_CIPHER_CTX *ctx, const bytes_t *payload, uint32_t body_start,
                    const uint8_t *aad, int aad_length, uint8_t *out) {
  const uint8_t *nonce = payload->data + body_start;
  const uint8_t *tag = nonce + NONCE_BYTES;
  const uint8_t *body = tag + TAG_BYTES;
  int body_length = (int)(payload->length - body_start - NONCE_BYTES - TAG_BYTES);
  int written = 0;
  return EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
         EVP_DecryptUpdate(ctx, NULL, &written, aad, aad_length) == 1 &&
         EVP_DecryptUpdate(ctx, out, &written, body, body_length) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, (void *)tag) == 1 &&
         EVP_DecryptFinal_ex(ctx, out + written, &written) == 1;
}

static napi_value open_batch(napi_env env, napi_callback_info info) {
  size_t argc = ARG_COUNT;
  napi_value argv[ARG_COUNT];
  bytes_t key, aad, out;
  offsets_t body_starts, aad_offsets, out_offsets;
  uint32_t count = 0;
  bool is_array = false;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != ARG_COUNT) {
    return fail(env, 0, "openBatch takes 7 arguments");
  }
  if (!read_buffer(env, argv[0], &key) || key.length != KEY_BYTES) {
    return fail(env, 0, "openBatch: the key must be a Buffer of 32 bytes");
  }
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &count) != napi_ok) {
    return fail(env, 0, "openBatch: payloads must be an array of Buffers");
  }
  if (!read_offsets(env, argv[2], &body_starts) || body_starts.length != count ||
      !read_buffer(env, argv[3], &aad) || !read_offsets(env, argv[4], &aad_offsets) ||
      !read_buffer(env, argv[5], &out) || !read_offsets(env, argv[6], &out_offsets)) {
    return fail(env, 0, "openBatch: expected Uint32Arrays and Buffers as documented");
  }
  if (!offsets_fit(&aad_offsets, count, aad.length) ||
      !offsets_fit(&out_offsets, count, out.length)) {
    return fail(env, 1, "openBatch: offsets do not fit their buffers");
  }

  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
      EVP_DecryptInit_ex(ctx, NULL, NULL, key.data, NULL) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return fail(env, 0, "openBatch: OpenSSL could not set up AES-256-GCM");
  }

  int32_t failed_index = -1;
  for (uint32_t i = 0; i < count && failed_index < 0; i++) {
    napi_value element;
    bytes_t payload;
    uint32_t body_start = body_starts.values[i];
    if (napi_get_element(env, argv[1], i, &element) != napi_ok ||
        !read_buffer(env, element, &payload)) {
      EVP_CIPHER_CTX_free(ctx);
      return fail(env, 0, "openBatch: every payload must be a Buffer");
    }
    size_t plain_length = out_offsets.values[i + 1] - out_offsets.values[i];
    if ((size_t)body_start + NONCE_BYTES + TAG_BYTES + plain_length != payload.length) {
      EVP_CIPHER_CTX_free(ctx);
      return fail(env, 1, "openBatch: a payload's length does not match its offsets");
    }
    const uint8_t *payload_aad = aad.data + aad_offsets.values[i];
    int aad_length = (int)(aad_offsets.values[i + 1] - aad_offsets.values[i]);
    if (!open_one(ctx, &payload, body_start, payload_aad, aad_length,
                  out.data + out_offsets.values[i])) {
      failed_index = (int32_t)i;
    }
  }
  EVP_CIPHER_CTX_free(ctx);

  napi_value result;
  napi_create_int32(env, failed_index, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function;
  napi_create_function(env, "openBatch", NAPI_AUTO_LENGTH, open_batch, NULL, &function);
  napi_set_named_property(env, exports, "openBatch", function);
  return exports;
}
