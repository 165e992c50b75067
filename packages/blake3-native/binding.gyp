{
  "targets": [
    {
      "target_name": "blake3_native",
      "include_dirs": ["vendor/blake3"],
      "sources": ["src/binding.c", "vendor/blake3/blake3_dispatch.c", "vendor/blake3/blake3_portable.c"],
      "cflags_c": ["-O3", "-std=c11"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] },
      "conditions": [
        [
          "target_arch == 'x64' and OS != 'win'",
          {
            "sources": [
              "vendor/blake3/blake3_sse2_x86-64_unix.S",
              "vendor/blake3/blake3_sse41_x86-64_unix.S",
              "vendor/blake3/blake3_avx2_x86-64_unix.S",
              "vendor/blake3/blake3_avx512_x86-64_unix.S"
            ]
          }
        ],
        [
          "target_arch == 'arm64'",
          { "sources": ["vendor/blake3/blake3_neon.c"] }
        ],
        [
          "target_arch != 'x64' or OS == 'win'",
          {
            "defines": ["BLAKE3_NO_SSE2", "BLAKE3_NO_SSE41", "BLAKE3_NO_AVX2", "BLAKE3_NO_AVX512"]
          }
        ]
      ]
    }
  ]
}
