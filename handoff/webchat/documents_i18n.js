// Why a document was not taken, in Turkish and English, by the service's
// refusal code (handoff/documents/refusals.py: doc_<code>). One text for the
// web chat and the customer panel: both pages load this file before their
// own labels (webchat/i18n.js, panel/i18n.js), which add it to theirs.
// {max}: the size limit in MB, filled in by the page.
"use strict";
window.DOCUMENT_I18N = {
  tr: {
    doc_empty: "Dosya boş.",
    doc_failed: "Dosya gönderilemedi. Lütfen tekrar deneyin.",
    doc_image_too_large: "Resmin çözünürlüğü çok yüksek. Lütfen daha küçük bir resim gönderin.",
    doc_infected: "Virüs taraması bu dosyada zararlı yazılım buldu; dosya alınmadı.",
    doc_no_file: "Dosya seçilmedi.",
    doc_pdf_encrypted: "Şifreli PDF kabul edilmiyor. Lütfen şifresiz bir kopyasını gönderin.",
    doc_pdf_script: "Komut (JavaScript) veya otomatik eylem içeren PDF kabul edilmiyor.",
    doc_too_large: "Dosya çok büyük. En fazla {max} MB gönderebilirsiniz.",
    doc_unreadable: "Dosya açılamadı; bozuk olabilir. Lütfen başka bir dosya deneyin.",
    doc_unsupported_type: "Bu dosya türü kabul edilmiyor. Lütfen JPEG, PNG, WebP resmi ya da PDF gönderin."
  },
  en: {
    doc_empty: "The file is empty.",
    doc_failed: "The file could not be sent. Please try again.",
    doc_image_too_large: "The image's resolution is too high. Please send a smaller image.",
    doc_infected: "The virus scan found malware in this file; it was not accepted.",
    doc_no_file: "No file was chosen.",
    doc_pdf_encrypted: "Password-protected PDFs are not accepted. Please send a copy without a password.",
    doc_pdf_script: "PDFs with scripts (JavaScript) or automatic actions are not accepted.",
    doc_too_large: "The file is too large. You can send up to {max} MB.",
    doc_unreadable: "The file could not be opened; it may be damaged. Please try another one.",
    doc_unsupported_type: "This kind of file is not accepted. Please send a JPEG, PNG or WebP image or a PDF."
  }
};
