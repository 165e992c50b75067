// The chaining values inside a 64 KiB BLAKE3 chunk group, on the official BLAKE3 C code
// (vendor/blake3; on x86-64 Unix its SSE2/SSE4.1/AVX2/AVX-512 kernels are picked at run time,
// on arm64 NEON, elsewhere portable C). Native
// BLAKE3 bindings on npm give only root hashes; a chunk-verified GET needs the non-root
// chaining value of each group, at its chunk counter (docs/storage.md, "Chunk-verified GET").
#include <stdint.h>
#include <string.h>

#include <node_api.h>

#include "blake3_impl.h"

#define GROUP_CHUNKS 64
#define GROUP_BYTES (GROUP_CHUNKS * BLAKE3_CHUNK_LEN)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data,
                       size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok) return 0;
  return type == want;
}

static int integer(napi_env env, napi_value value, double *out) {
  if (napi_get_value_double(env, value, out) != napi_ok) return 0;
  // Non-negative safe integers only.
  return *out >= 0 && *out <= 9007199254740991.0 && (double)(int64_t)*out == *out;
}

// groupChildren(bytes: Uint8Array, off: number, counter: number, out: Uint32Array, outOff: number)
// Hashes the full group bytes[off..off+65536), whose first chunk has chunk counter `counter`,
// up to the two children of its root: 16 words (left CV, right CV) written to out[outOff..].
// The caller does the last parent compression (with the ROOT flag when the group is the
// whole object).
static napi_value group_children(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) {
    return fail(env, "groupChildren takes (bytes, off, counter, out, outOff)");
  }
  uint8_t *bytes;
  size_t bytes_len;
  uint32_t *out;
  size_t out_len;
  double off, counter, out_off;
  if (!typed_array(env, argv[0], napi_uint8_array, (void **)&bytes, &bytes_len) ||
      !integer(env, argv[1], &off) || !integer(env, argv[2], &counter) ||
      !typed_array(env, argv[3], napi_uint32_array, (void **)&out, &out_len) ||
      !integer(env, argv[4], &out_off)) {
    return fail(env, "groupChildren takes (Uint8Array, integer, integer, Uint32Array, integer)");
  }
  if (off + GROUP_BYTES > (double)bytes_len) return fail(env, "the group runs past the bytes");
  if (out_off + 16 > (double)out_len) return fail(env, "the output runs past its array");

  const uint8_t *inputs[GROUP_CHUNKS];
  for (size_t i = 0; i < GROUP_CHUNKS; i++) inputs[i] = bytes + (size_t)off + i * BLAKE3_CHUNK_LEN;
  uint8_t cvs[GROUP_CHUNKS * BLAKE3_OUT_LEN];
  uint8_t parents[GROUP_CHUNKS / 2 * BLAKE3_OUT_LEN];
  blake3_hash_many(inputs, GROUP_CHUNKS, BLAKE3_CHUNK_LEN / BLAKE3_BLOCK_LEN, IV, (uint64_t)counter,
                   true, 0, CHUNK_START, CHUNK_END, cvs);
  // Parent levels: 64 CVs → 32 → … → 2; each pair of adjacent CVs is one parent's block.
  for (size_t n = GROUP_CHUNKS; n > 2; n /= 2) {
    for (size_t i = 0; i < n / 2; i++) inputs[i] = cvs + i * 2 * BLAKE3_OUT_LEN;
    blake3_hash_many(inputs, n / 2, 1, IV, 0, false, PARENT, 0, 0, parents);
    memcpy(cvs, parents, n / 2 * BLAKE3_OUT_LEN);
  }
  uint32_t *words = out + (size_t)out_off;
  for (size_t i = 0; i < 16; i++) words[i] = load32(cvs + 4 * i);
  return NULL;
}

// Whether this build has SIMD kernels: without them (the portable C code alone, e.g. on
// Windows, where the x86 kernels need MASM) WebAssembly SIMD is faster, and the SDK uses that.
#if (defined(IS_X86) && !defined(BLAKE3_NO_SSE2)) || BLAKE3_USE_NEON == 1
#define HAS_SIMD true
#else
#define HAS_SIMD false
#endif

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, simd;
  if (napi_create_function(env, "groupChildren", NAPI_AUTO_LENGTH, group_children, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "groupChildren", fn) != napi_ok ||
      napi_get_boolean(env, HAS_SIMD, &simd) != napi_ok ||
      napi_set_named_property(env, exports, "simd", simd) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
