// ES256 with OpenSSL 3 EVP. OpenSSL speaks DER ECDSA-Sig-Value; JOSE wants fixed-size r||s.
#include "platform/auth/ec_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

namespace emporium::auth::internal {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
    return false;
  return std::string_view(group, len) == "prime256v1";
}

bool BnToFixed(const BIGNUM* bn, std::string& out) {
  out.assign(kCoordBytes, '\0');
  return BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), kCoordBytes) == kCoordBytes;
}

}  // namespace

Result<PkeyPtr> GenerateP256() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal("P-256 key generation failed");
  return key;
}

Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("out of memory");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();  // failures must not linger on this thread's queue for a TLS caller to find
    return InvalidArgument("not a PEM private key");
  }
  if (!IsP256(key.get())) return InvalidArgument("not an EC P-256 key");
  return key;
}

std::string PrivateKeyToPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::pair<std::string, std::string>> PublicXY(EVP_PKEY* key) {
  BIGNUM* raw_x = nullptr;
  BIGNUM* raw_y = nullptr;
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &raw_x);
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &raw_y);
  std::unique_ptr<BIGNUM, BnFree> x(raw_x), y(raw_y);
  std::pair<std::string, std::string> out;
  if (!x || !y || !BnToFixed(x.get(), out.first) || !BnToFixed(y.get(), out.second)) {
    return Internal("cannot read the public point");
  }
  return out;
}

Result<PkeyPtr> PublicKeyFromXY(std::string_view x, std::string_view y) {
  if (x.size() != kCoordBytes || y.size() != kCoordBytes)
    return InvalidArgument("coordinates must be 32 bytes");
  std::string point = "\x04" + std::string(x) + std::string(y);  // SEC1 uncompressed
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Internal("out of memory");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return Internal("EC key import unavailable");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("not a point on P-256");
  }
  PkeyPtr key(raw);
  // Import decodes the point; the explicit check also rejects the point at infinity and any
  // off-curve point (invalid-curve attacks) whatever the provider does on import.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("not a point on P-256");
  }
  return key;
}

Result<std::string> SignEs256(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, Bytes(data), data.size()) != 1) {
    return Internal("ECDSA signing failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len, Bytes(data),
                     data.size()) != 1) {
    return Internal("ECDSA signing failed");
  }
  const unsigned char* p = Bytes(der);
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Internal("ECDSA signature not DER");
  std::string r, s;
  if (!BnToFixed(ECDSA_SIG_get0_r(sig.get()), r) || !BnToFixed(ECDSA_SIG_get0_s(sig.get()), s)) {
    return Internal("ECDSA signature out of range");
  }
  return r + s;
}

bool VerifyEs256(EVP_PKEY* key, std::string_view data, std::string_view jose_sig) {
  if (jose_sig.size() != kJoseSigBytes) return false;
  std::unique_ptr<BIGNUM, BnFree> r(BN_bin2bn(Bytes(jose_sig), kCoordBytes, nullptr));
  std::unique_ptr<BIGNUM, BnFree> s(BN_bin2bn(Bytes(jose_sig.substr(kCoordBytes)), kCoordBytes, nullptr));
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len), Bytes(data), data.size()) == 1;
  OPENSSL_free(der);
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace emporium::auth::internal
