// The only place in clang-plugin/ that knows which clang major it is compiled against (19, 22).
#pragma once

#include "clang/AST/Expr.h"
#include "clang/AST/Stmt.h"
#include "clang/Basic/Version.h"

#include <string>

#if CLANG_VERSION_MAJOR >= 22
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

namespace autockpt {

// An asm statement's text and clobbers: StringRefs into a StringLiteral in 19, std::strings in
// 22 (the text may be a constant expression there).
inline std::string asmText(const clang::GCCAsmStmt &S) {
#if CLANG_VERSION_MAJOR >= 21
  return S.getAsmString();
#else
  return S.getAsmString()->getString().str();
#endif
}

inline std::string asmClobber(const clang::GCCAsmStmt &S, unsigned K) {
  return std::string(S.getClobber(K));
}

}  // namespace autockpt
