// `#pragma autockpt nopoll | safepoint | nosave(var, ...)`.  nopoll and safepoint become a
// statement, `(void)__builtin_annotation(0, "autockpt.<what>");`, the IR marker the pass reads
// (passes/Marks.h): clang emits it as an llvm.annotation call at exactly that place, with or
// without optimisation.  nosave puts annotate("autockpt.nosave") on the named variables, the
// same as [[autockpt::nosave]] (Attributes.cpp).
#include "Checks.h"
#include "Plugin.h"

#include "clang/AST/Attr.h"
#include "clang/Basic/DiagnosticSema.h"
#include "clang/Lex/LexDiagnostic.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Sema/Lookup.h"
#include "clang/Sema/Scope.h"
#include "clang/Sema/Sema.h"

using namespace clang;

namespace autockpt {

namespace {

Token punct(tok::TokenKind K, SourceLocation Loc) {
  Token T;
  T.startToken();
  T.setKind(K);
  T.setLocation(Loc);
  T.setLength(0);
  return T;
}

Token literal(Preprocessor &PP, tok::TokenKind K, StringRef Spelling, SourceLocation Loc) {
  Token T = punct(K, Loc);
  PP.CreateString(Spelling, T, Loc, Loc);
  return T;
}

Token ident(Preprocessor &PP, StringRef Name, SourceLocation Loc) {
  Token T = punct(tok::identifier, Loc);
  IdentifierInfo *II = PP.getIdentifierInfo(Name);
  T.setIdentifierInfo(II);
  T.setKind(II->getTokenID());  // `void` is a keyword
  return T;
}

class AutockptPragma : public PragmaHandler {
 public:
  AutockptPragma() : PragmaHandler("autockpt") {}

  void HandlePragma(Preprocessor &PP, PragmaIntroducer, Token &First) override {
    Token Tok;
    PP.Lex(Tok);
    SourceLocation Loc = Tok.getLocation();
    StringRef What = Tok.is(tok::identifier) ? Tok.getIdentifierInfo()->getName() : "";
    if (What == "nopoll" || What == "safepoint") {
      PP.Lex(Tok);
      if (Tok.isNot(tok::eod)) {
        warn(PP, Tok.getLocation(), "extra tokens after '#pragma autockpt " + What.str() + "'");
        PP.DiscardUntilEndOfDirective();
      }
      if (What == "nopoll") {
        const Token &Next = PP.LookAhead(0);
        if (!Next.isOneOf(tok::kw_for, tok::kw_while, tok::kw_do)) {
          warn(PP, Loc, "'#pragma autockpt nopoll' must come right before a loop (for, while, "
                        "do); it is ignored");
          return;
        }
      }
      injectMarker(PP, Loc, ("\"autockpt." + What + "\"").str());
      return;
    }
    if (What == "nosave") {
      nosave(PP, Loc);
      return;
    }
    warn(PP, Loc, "unknown '#pragma autockpt' (expected nopoll, safepoint or nosave(...)); "
                  "it is ignored");
    if (Tok.isNot(tok::eod))
      PP.DiscardUntilEndOfDirective();
  }

 private:
  static void warn(Preprocessor &PP, SourceLocation Loc, const std::string &Msg) {
    DiagnosticsEngine &D = PP.getDiagnostics();
    D.Report(Loc, D.getCustomDiagID(DiagnosticsEngine::Warning, "%0")) << Msg;
  }

  // (void)__builtin_annotation(0, "autockpt.<what>");
  static void injectMarker(Preprocessor &PP, SourceLocation Loc, const std::string &Str) {
    Token Toks[] = {punct(tok::l_paren, Loc),
                    ident(PP, "void", Loc),
                    punct(tok::r_paren, Loc),
                    ident(PP, "__builtin_annotation", Loc),
                    punct(tok::l_paren, Loc),
                    literal(PP, tok::numeric_constant, "0", Loc),
                    punct(tok::comma, Loc),
                    literal(PP, tok::string_literal, Str, Loc),
                    punct(tok::r_paren, Loc),
                    punct(tok::semi, Loc)};
    auto Owned = std::make_unique<Token[]>(std::size(Toks));
    std::copy(std::begin(Toks), std::end(Toks), Owned.get());
    PP.EnterTokenStream(std::move(Owned), std::size(Toks), /*DisableMacroExpansion=*/true,
                        /*IsReinject=*/false);
  }

  // nosave(a, b, ...): each name must be a variable visible here.
  static void nosave(Preprocessor &PP, SourceLocation Loc) {
    Token Tok;
    PP.Lex(Tok);
    if (Tok.isNot(tok::l_paren)) {
      warn(PP, Loc, "expected '#pragma autockpt nosave(variable, ...)'; it is ignored");
      if (Tok.isNot(tok::eod))
        PP.DiscardUntilEndOfDirective();
      return;
    }
    for (;;) {
      PP.Lex(Tok);
      if (Tok.is(tok::identifier)) {
        markNoSave(PP, *Tok.getIdentifierInfo(), Tok.getLocation());
        PP.Lex(Tok);
      }
      if (Tok.is(tok::comma))
        continue;
      if (Tok.is(tok::r_paren))
        break;
      warn(PP, Tok.getLocation(), "expected a variable name, ',' or ')' in '#pragma autockpt "
                                  "nosave'");
      if (Tok.isNot(tok::eod))
        PP.DiscardUntilEndOfDirective();
      return;
    }
    PP.Lex(Tok);
    if (Tok.isNot(tok::eod))
      PP.DiscardUntilEndOfDirective();
  }

  static void markNoSave(Preprocessor &PP, IdentifierInfo &II, SourceLocation Loc) {
    Sema *S = currentSema();
    if (!S)
      return;  // preprocessing only
    LookupResult R(*S, &II, Loc, Sema::LookupOrdinaryName);
    S->LookupName(R, S->getCurScope());
    auto *V = R.getAsSingle<VarDecl>();
    if (!V) {
      warn(PP, Loc, "'#pragma autockpt nosave': no variable named '" + II.getName().str() +
                        "' here; it is ignored");
      return;
    }
    if (!isNoSave(*V))
      V->addAttr(AnnotateAttr::CreateImplicit(S->Context, "autockpt.nosave", nullptr, 0,
                                              SourceRange(Loc)));
  }
};

PragmaHandlerRegistry::Add<AutockptPragma> Pragma("autockpt",
                                                  "#pragma autockpt nopoll|safepoint|nosave(...)");

}  // namespace

}  // namespace autockpt

namespace autockpt {
namespace {
clang::Sema *TheSema = nullptr;
}
clang::Sema *currentSema() { return TheSema; }
void setCurrentSema(clang::Sema *S) { TheSema = S; }
}  // namespace autockpt
