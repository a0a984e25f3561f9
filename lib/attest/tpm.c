/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM through tss2-esys. No resource manager sits between arca and a
 * socket TPM (swtpm) and the TPM has only a few object slots, so every
 * transient object and session this file creates is flushed before the
 * function returns — on every path.
 */
#include "internal.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

static typeof(Tss2_TctiLdr_Finalize) *sym_Tss2_TctiLdr_Finalize;
static typeof(Tss2_TctiLdr_Initialize) *sym_Tss2_TctiLdr_Initialize;
static const struct dl_sym tctildr_syms[] = {
	DL_SYM(Tss2_TctiLdr_Finalize),
	DL_SYM(Tss2_TctiLdr_Initialize),
};
static struct dl_lib tctildr_lib = DL_LIB(ARCA_SONAME_TSS2_TCTILDR, tctildr_syms);

static typeof(Tss2_RC_Decode) *sym_Tss2_RC_Decode;
static const struct dl_sym rc_syms[] = {
	DL_SYM(Tss2_RC_Decode),
};
static struct dl_lib rc_lib = DL_LIB(ARCA_SONAME_TSS2_RC, rc_syms);

static typeof(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal) *sym_Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal;
static typeof(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal) *sym_Tss2_MU_TPM2B_ID_OBJECT_Unmarshal;
static typeof(Tss2_MU_TPM2B_PRIVATE_Marshal) *sym_Tss2_MU_TPM2B_PRIVATE_Marshal;
static typeof(Tss2_MU_TPM2B_PRIVATE_Unmarshal) *sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal;
static typeof(Tss2_MU_TPM2B_PUBLIC_Marshal) *sym_Tss2_MU_TPM2B_PUBLIC_Marshal;
static typeof(Tss2_MU_TPM2B_PUBLIC_Unmarshal) *sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal;
static typeof(Tss2_MU_TPMT_SIGNATURE_Marshal) *sym_Tss2_MU_TPMT_SIGNATURE_Marshal;
static const struct dl_sym mu_syms[] = {
	DL_SYM(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal),
	DL_SYM(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal),
	DL_SYM(Tss2_MU_TPM2B_PRIVATE_Marshal),
	DL_SYM(Tss2_MU_TPM2B_PRIVATE_Unmarshal),
	DL_SYM(Tss2_MU_TPM2B_PUBLIC_Marshal),
	DL_SYM(Tss2_MU_TPM2B_PUBLIC_Unmarshal),
	DL_SYM(Tss2_MU_TPMT_SIGNATURE_Marshal),
};
static struct dl_lib mu_lib = DL_LIB(ARCA_SONAME_TSS2_MU, mu_syms);

static typeof(Esys_ActivateCredential) *sym_Esys_ActivateCredential;
static typeof(Esys_Create) *sym_Esys_Create;
static typeof(Esys_CreatePrimary) *sym_Esys_CreatePrimary;
static typeof(Esys_Finalize) *sym_Esys_Finalize;
static typeof(Esys_FlushContext) *sym_Esys_FlushContext;
static typeof(Esys_Free) *sym_Esys_Free;
static typeof(Esys_Initialize) *sym_Esys_Initialize;
static typeof(Esys_Load) *sym_Esys_Load;
static typeof(Esys_NV_Read) *sym_Esys_NV_Read;
static typeof(Esys_NV_ReadPublic) *sym_Esys_NV_ReadPublic;
static typeof(Esys_PCR_Extend) *sym_Esys_PCR_Extend;
static typeof(Esys_PCR_Read) *sym_Esys_PCR_Read;
static typeof(Esys_PolicySecret) *sym_Esys_PolicySecret;
static typeof(Esys_Quote) *sym_Esys_Quote;
static typeof(Esys_StartAuthSession) *sym_Esys_StartAuthSession;
static typeof(Esys_TR_Close) *sym_Esys_TR_Close;
static typeof(Esys_TR_FromTPMPublic) *sym_Esys_TR_FromTPMPublic;
static const struct dl_sym esys_syms[] = {
	DL_SYM(Esys_ActivateCredential),
	DL_SYM(Esys_Create),
	DL_SYM(Esys_CreatePrimary),
	DL_SYM(Esys_Finalize),
	DL_SYM(Esys_FlushContext),
	DL_SYM(Esys_Free),
	DL_SYM(Esys_Initialize),
	DL_SYM(Esys_Load),
	DL_SYM(Esys_NV_Read),
	DL_SYM(Esys_NV_ReadPublic),
	DL_SYM(Esys_PCR_Extend),
	DL_SYM(Esys_PCR_Read),
	DL_SYM(Esys_PolicySecret),
	DL_SYM(Esys_Quote),
	DL_SYM(Esys_StartAuthSession),
	DL_SYM(Esys_TR_Close),
	DL_SYM(Esys_TR_FromTPMPublic),
};
static struct dl_lib esys_lib = DL_LIB(ARCA_SONAME_TSS2_ESYS, esys_syms);

struct attest_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

#define EK_CERT_NV_RSA 0x01c00002u
#define EK_CERT_NV_ECC 0x01c0000au
#define NV_CHUNK 512
#define EK_CERT_MAX 4096u

/* tss2 (and the TCTI modules it loads itself) is opened on first use
 * (dl_load in base.h): verifying a quote or replaying a log needs no TPM,
 * and linking tss2 cost every arca command its start-up time. */
static int tss_load(struct arca_err *e)
{
	int r;
	if ((r = dl_load(&esys_lib, e)) < 0 || (r = dl_load(&mu_lib, e)) < 0 || (r = dl_load(&rc_lib, e)) < 0 ||
	    (r = dl_load(&tctildr_lib, e)) < 0)
		return r;
	return 0;
}

static int tss_err(struct arca_err *e, TSS2_RC rc, const char *what)
{
	return err_set(e, -EIO, "TPM: %s: %s (0x%x)", what, sym_Tss2_RC_Decode(rc), rc);
}

const char *attest_tcti_default(const char *conf)
{
	if (conf && *conf)
		return conf;
	const char *env = getenv("ARCA_TPM_TCTI");
	return env && *env ? env : "device:/dev/tpmrm0";
}

int attest_tpm_open(const char *tcti, struct attest_tpm **out, struct arca_err *e)
{
	tcti = attest_tcti_default(tcti);
	if (!strncmp(tcti, "device:", 7) || !strcmp(tcti, "device")) {
		const char *dev = tcti[6] == ':' && tcti[7] ? tcti + 7 : "/dev/tpmrm0";
		if (access(dev, R_OK | W_OK) < 0) {
			if (errno == ENOENT)
				return err_set(e, -ENODEV, "TPM: no TPM device '%s'", dev);
			return err_setsys(e, -errno, "TPM: '%s'", dev);
		}
	}
	int r = tss_load(e);
	if (r < 0)
		return r;
	/* tss2 logs errors to stderr unless told otherwise, and library code
	 * must not print: silence it unless the user chose a level. */
	setenv("TSS2_LOG", "all+none", 0);
	struct attest_tpm *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	TSS2_RC rc = sym_Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return err_set(e, -EIO, "TPM: cannot open TCTI '%s': %s", tcti, sym_Tss2_RC_Decode(rc));
	}
	rc = sym_Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		sym_Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return tss_err(e, rc, "initialize");
	}
	*out = t;
	return 0;
}

void attest_tpm_close(struct attest_tpm *t)
{
	if (!t)
		return;
	sym_Esys_Finalize(&t->esys);
	sym_Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

static void flush(struct attest_tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		sym_Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

/* TCG EK Credential Profile 2.x, templates L-1 (RSA 2048) and L-2 (ECC P-256). */
static void ek_template(bool ecc, TPM2B_PUBLIC *p)
{
	static const uint8_t policy_a[32] = { 0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
					      0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
					      0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa };
	memset(p, 0, sizeof(*p));
	TPMT_PUBLIC *t = &p->publicArea;
	t->nameAlg = TPM2_ALG_SHA256;
	t->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
			      TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	t->authPolicy.size = 32;
	memcpy(t->authPolicy.buffer, policy_a, 32);
	if (ecc) {
		t->type = TPM2_ALG_ECC;
		t->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		t->parameters.eccDetail.symmetric.keyBits.aes = 128;
		t->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		t->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		t->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		t->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		t->unique.ecc.x.size = 32;
		t->unique.ecc.y.size = 32;
	} else {
		t->type = TPM2_ALG_RSA;
		t->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		t->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		t->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		t->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		t->parameters.rsaDetail.keyBits = 2048;
		t->unique.rsa.size = 256;
	}
}

static int ek_load(struct attest_tpm *t, bool ecc, ESYS_TR *ek, TPM2B_PUBLIC **pub, struct arca_err *e)
{
	TPM2B_PUBLIC tmpl;
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	memset(&sens, 0, sizeof(sens));
	ek_template(ecc, &tmpl);
	TSS2_RC rc = sym_Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
					&sens, &tmpl, &outside, &none, ek, pub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tss_err(e, rc, "create EK");
	return 0;
}

/* A policy session satisfying the EK's policy: PolicySecret(endorsement). */
static int ek_session(struct attest_tpm *t, ESYS_TR *s, struct arca_err *e)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc = sym_Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, s);
	if (rc != TSS2_RC_SUCCESS)
		return tss_err(e, rc, "start policy session");
	rc = sym_Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, *s, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
			       NULL, NULL, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		flush(t, s);
		return tss_err(e, rc, "PolicySecret(endorsement)");
	}
	return 0;
}

static int marshal_pub(const TPM2B_PUBLIC *p, struct buf *out)
{
	uint8_t tmp[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;
	if (sym_Tss2_MU_TPM2B_PUBLIC_Marshal(p, tmp, sizeof(tmp), &off) != TSS2_RC_SUCCESS)
		return -EIO;
	buf_add(out, tmp, off);
	return buf_error(out);
}

int attest_tpm_ek_public(struct attest_tpm *t, bool ecc, struct buf *pub, struct arca_err *e)
{
	ESYS_TR ek = ESYS_TR_NONE;
	TPM2B_PUBLIC *p = NULL;
	int rc = ek_load(t, ecc, &ek, &p, e);
	if (rc == 0)
		rc = marshal_pub(p, pub);
	flush(t, &ek);
	sym_Esys_Free(p);
	return rc;
}

int attest_tpm_ek_cert(struct attest_tpm *t, bool ecc, struct buf *der, struct arca_err *e)
{
	ESYS_TR nv = ESYS_TR_NONE;
	uint32_t index = ecc ? EK_CERT_NV_ECC : EK_CERT_NV_RSA;
	TSS2_RC rc = sym_Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
	if (rc != TSS2_RC_SUCCESS)
		return err_set(e, -ENOENT, "TPM: no EK certificate at NV index 0x%08x", index);
	TPM2B_NV_PUBLIC *np = NULL;
	int ret = 0;
	rc = sym_Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &np, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tss_err(e, rc, "read EK certificate index");
		goto out;
	}
	uint16_t size = np->nvPublic.dataSize;
	if (size > EK_CERT_MAX) {
		ret = err_set(e, -E2BIG, "TPM: EK certificate of %u bytes", size);
		goto out;
	}
	for (uint16_t off = 0; off < size;) {
		uint16_t n = (uint16_t)(size - off < NV_CHUNK ? size - off : NV_CHUNK);
		TPM2B_MAX_NV_BUFFER *d = NULL;
		rc = sym_Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off, &d);
		if (rc != TSS2_RC_SUCCESS) {
			ret = tss_err(e, rc, "read EK certificate");
			goto out;
		}
		buf_add(der, d->buffer, d->size);
		off = (uint16_t)(off + d->size);
		bool empty = d->size == 0;
		sym_Esys_Free(d);
		if (empty)
			break;
	}
	ret = buf_error(der);
out:
	sym_Esys_Free(np);
	sym_Esys_TR_Close(t->esys, &nv);
	return ret;
}

static void ak_template(bool ecc, TPM2B_PUBLIC *p)
{
	memset(p, 0, sizeof(*p));
	TPMT_PUBLIC *t = &p->publicArea;
	t->nameAlg = TPM2_ALG_SHA256;
	t->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
			      TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	if (ecc) {
		t->type = TPM2_ALG_ECC;
		t->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		t->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		t->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
		t->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		t->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		t->type = TPM2_ALG_RSA;
		t->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		t->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
		t->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
		t->parameters.rsaDetail.keyBits = 2048;
	}
}

/* The AK's parent is always the RSA EK (recreated from the endorsement
 * seed on every use), so the key file alone is enough to load it. */
int attest_tpm_ak_create(struct attest_tpm *t, bool ecc, struct buf *blob, struct buf *pub, struct arca_err *e)
{
	ESYS_TR ek = ESYS_TR_NONE, s = ESYS_TR_NONE;
	TPM2B_PUBLIC tmpl, *opub = NULL;
	TPM2B_PRIVATE *opriv = NULL;
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	memset(&sens, 0, sizeof(sens));
	ak_template(ecc, &tmpl);
	int ret = ek_load(t, false, &ek, NULL, e);
	if (ret < 0)
		return ret;
	if ((ret = ek_session(t, &s, e)) < 0)
		goto out;
	TSS2_RC rc = sym_Esys_Create(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &none, &opriv,
				 &opub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		ret = tss_err(e, rc, "create AK");
		goto out;
	}
	if ((ret = marshal_pub(opub, blob)) < 0 || (ret = marshal_pub(opub, pub)) < 0)
		goto out;
	uint8_t tmp[sizeof(TPM2B_PRIVATE)];
	size_t off = 0;
	if (sym_Tss2_MU_TPM2B_PRIVATE_Marshal(opriv, tmp, sizeof(tmp), &off) != TSS2_RC_SUCCESS) {
		ret = -EIO;
		goto out;
	}
	buf_add(blob, tmp, off);
	ret = buf_error(blob);
out:
	flush(t, &s);
	flush(t, &ek);
	sym_Esys_Free(opub);
	sym_Esys_Free(opriv);
	return ret;
}

/* Loads the EK and, under it, the AK from its key file. */
static int ak_load(struct attest_tpm *t, const uint8_t *blob, size_t n, ESYS_TR *ek, ESYS_TR *ak, struct arca_err *e)
{
	TPM2B_PUBLIC pub;
	TPM2B_PRIVATE priv;
	size_t off = 0;
	memset(&pub, 0, sizeof(pub));
	memset(&priv, 0, sizeof(priv));
	if (sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, n, &off, &pub) != TSS2_RC_SUCCESS ||
	    sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, n, &off, &priv) != TSS2_RC_SUCCESS || off != n)
		return err_set(e, -EBADMSG, "AK key file: not TPM2B_PUBLIC || TPM2B_PRIVATE");
	int ret = ek_load(t, false, ek, NULL, e);
	if (ret < 0)
		return ret;
	ESYS_TR s = ESYS_TR_NONE;
	if ((ret = ek_session(t, &s, e)) < 0)
		return ret;
	TSS2_RC rc = sym_Esys_Load(t->esys, *ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, ak);
	flush(t, &s);
	secure_wipe(&priv, sizeof(priv));
	if (rc != TSS2_RC_SUCCESS)
		return tss_err(e, rc, "load AK (was it created by this TPM?)");
	return 0;
}

static void to_tpm_sel(const struct attest_pcrs *sel, TPML_PCR_SELECTION *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sel->nbanks; i++) {
		TPMS_PCR_SELECTION *s = &out->pcrSelections[out->count++];
		s->hash = sel->bank[i].alg;
		s->sizeofSelect = 3;
		for (int k = 0; k < 3; k++)
			s->pcrSelect[k] = (uint8_t)(sel->bank[i].mask >> (8 * k));
	}
}

int attest_tpm_pcr_read(struct attest_tpm *t, const struct attest_pcrs *sel, struct attest_pcrs *out,
			struct arca_err *e)
{
	memset(out, 0, sizeof(*out));
	struct attest_pcrs left = *sel;
	/* TPM2_PCR_Read returns at most 8 digests; ask again for the rest. */
	for (int round = 0; round < ATTEST_BANK_MAX * ATTEST_PCR_COUNT; round++) {
		TPML_PCR_SELECTION in, *got = NULL;
		TPML_DIGEST *vals = NULL;
		size_t want = 0;
		for (size_t i = 0; i < left.nbanks; i++)
			want += (size_t)__builtin_popcount(left.bank[i].mask);
		if (!want)
			return 0;
		to_tpm_sel(&left, &in);
		TSS2_RC rc = sym_Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, NULL, &got, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tss_err(e, rc, "PCR read");
		size_t v = 0;
		bool progress = false;
		for (uint32_t i = 0; i < got->count; i++) {
			uint16_t alg = got->pcrSelections[i].hash;
			struct attest_bank *lb = attest_pcrs_bank(&left, alg, false);
			struct attest_bank *ob = attest_pcrs_bank(out, alg, true);
			for (unsigned j = 0; j < ATTEST_PCR_COUNT && lb && ob; j++) {
				if (!(got->pcrSelections[i].pcrSelect[j / 8] & (1u << (j % 8))))
					continue;
				if (v >= vals->count || vals->digests[v].size != attest_alg_size(alg)) {
					sym_Esys_Free(got);
					sym_Esys_Free(vals);
					return err_set(e, -EIO, "TPM: PCR read returned malformed values");
				}
				memcpy(ob->pcr[j], vals->digests[v].buffer, vals->digests[v].size);
				ob->mask |= 1u << j;
				lb->mask &= ~(1u << j);
				v++;
				progress = true;
			}
		}
		sym_Esys_Free(got);
		sym_Esys_Free(vals);
		if (!progress)
			return err_set(e, -ENOTSUP, "TPM: the selected PCR banks are not active");
	}
	return 0;
}

int attest_tpm_quote(struct attest_tpm *t, const uint8_t *blob, size_t blob_len, const struct attest_pcrs *sel,
		     const uint8_t *nonce, size_t nonce_len, struct attest_quote *q, struct arca_err *e)
{
	if (nonce_len > ATTEST_NONCE_MAX)
		return err_set(e, -EINVAL, "nonce of %zu bytes (at most %u)", nonce_len, ATTEST_NONCE_MAX);
	ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE;
	int ret = ak_load(t, blob, blob_len, &ek, &ak, e);
	/* The EK is only the AK's parent: free its slot before quoting. */
	flush(t, &ek);
	if (ret < 0) {
		flush(t, &ak);
		return ret;
	}
	TPM2B_DATA qd = { .size = (uint16_t)nonce_len };
	memcpy(qd.buffer, nonce, nonce_len);
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION ps;
	to_tpm_sel(sel, &ps);
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	TSS2_RC rc = sym_Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &ps, &att, &sig);
	flush(t, &ak);
	if (rc != TSS2_RC_SUCCESS)
		return tss_err(e, rc, "quote");
	uint8_t tmp[sizeof(TPMT_SIGNATURE)];
	size_t off = 0;
	if (sym_Tss2_MU_TPMT_SIGNATURE_Marshal(sig, tmp, sizeof(tmp), &off) != TSS2_RC_SUCCESS) {
		ret = -EIO;
	} else {
		buf_reset(&q->attest);
		buf_reset(&q->signature);
		buf_add(&q->attest, att->attestationData, att->size);
		buf_add(&q->signature, tmp, off);
		ret = buf_error(&q->attest) ?: buf_error(&q->signature);
	}
	sym_Esys_Free(att);
	sym_Esys_Free(sig);
	if (ret < 0)
		return ret;
	return attest_tpm_pcr_read(t, sel, &q->pcrs, e);
}

int attest_tpm_activate(struct attest_tpm *t, bool ecc_ek, const uint8_t *blob, size_t blob_len,
			const uint8_t *id_object, size_t id_len, const uint8_t *enc_secret, size_t enc_len,
			struct buf *secret, struct arca_err *e)
{
	TPM2B_ID_OBJECT cred;
	TPM2B_ENCRYPTED_SECRET es;
	size_t o1 = 0, o2 = 0;
	memset(&cred, 0, sizeof(cred));
	memset(&es, 0, sizeof(es));
	if (sym_Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(id_object, id_len, &o1, &cred) != TSS2_RC_SUCCESS || o1 != id_len ||
	    sym_Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_len, &o2, &es) != TSS2_RC_SUCCESS || o2 != enc_len)
		return err_set(e, -EBADMSG, "credential: malformed TPM2B_ID_OBJECT or TPM2B_ENCRYPTED_SECRET");
	ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, s = ESYS_TR_NONE;
	int ret = ak_load(t, blob, blob_len, &ek, &ak, e);
	if (ret == 0 && ecc_ek) {
		/* the AK's parent is the RSA EK; the credential targets the ECC one */
		flush(t, &ek);
		ret = ek_load(t, true, &ek, NULL, e);
	}
	if (ret == 0)
		ret = ek_session(t, &s, e);
	if (ret == 0) {
		TPM2B_DIGEST *out = NULL;
		TSS2_RC rc = sym_Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, &cred, &es, &out);
		if (rc != TSS2_RC_SUCCESS) {
			ret = err_set(e, -EPERM, "credential: the TPM refused to activate it (AK not bound to this EK): %s",
				      sym_Tss2_RC_Decode(rc));
		} else {
			buf_add(secret, out->buffer, out->size);
			ret = buf_error(secret);
			secure_wipe(out->buffer, out->size);
		}
		sym_Esys_Free(out);
	}
	flush(t, &s);
	flush(t, &ak);
	flush(t, &ek);
	return ret;
}

int attest_tpm_pcr_extend(struct attest_tpm *t, unsigned index, const struct attest_pcrs *d, struct arca_err *e)
{
	if (index >= ATTEST_PCR_COUNT)
		return err_set(e, -EINVAL, "PCR %u", index);
	TPML_DIGEST_VALUES v;
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < d->nbanks && v.count < TPM2_NUM_PCR_BANKS; i++) {
		if (!(d->bank[i].mask & (1u << index)))
			continue;
		v.digests[v.count].hashAlg = d->bank[i].alg;
		memcpy(&v.digests[v.count].digest, d->bank[i].pcr[index], attest_alg_size(d->bank[i].alg));
		v.count++;
	}
	TSS2_RC rc = sym_Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v);
	if (rc != TSS2_RC_SUCCESS)
		return tss_err(e, rc, "PCR extend");
	return 0;
}
