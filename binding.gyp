{
  "targets": [
    {
      "target_name": "payload_gcm",
      "sources": ["src/state/crypto/native/payload-gcm.c"]
    }
  ]
}
