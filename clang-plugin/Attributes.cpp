// [[autockpt::nopoll]] on functions and [[autockpt::nosave]] on variables (also spelled
// __attribute__((autockpt_nopoll)) and C23 [[autockpt::...]]).  Each becomes
// annotate("autockpt.<what>"), the same IR mark as include/autockpt/marks.h leaves without the
// plugin (docs/design.md C1).
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/Basic/ParsedAttrInfo.h"
#include "clang/Sema/ParsedAttr.h"
#include "clang/Sema/Sema.h"

using namespace clang;

namespace autockpt {

namespace {

template <bool OnFunctions>
struct MarkAttr : public ParsedAttrInfo {
  static constexpr const char *Name = OnFunctions ? "nopoll" : "nosave";
  static constexpr Spelling Names[] = {
      {ParsedAttr::AS_GNU, OnFunctions ? "autockpt_nopoll" : "autockpt_nosave"},
      {ParsedAttr::AS_CXX11, OnFunctions ? "autockpt::nopoll" : "autockpt::nosave"},
      {ParsedAttr::AS_C23, OnFunctions ? "autockpt::nopoll" : "autockpt::nosave"}};

  MarkAttr() {
    OptArgs = 0;
    NumArgs = 0;
    Spellings = Names;
  }

  bool diagAppertainsToDecl(Sema &S, const ParsedAttr &Attr, const Decl *D) const override {
    bool Ok = OnFunctions ? isa<FunctionDecl>(D) : isa<VarDecl>(D) && !isa<ParmVarDecl>(D);
    if (!Ok)
      S.Diag(Attr.getLoc(), diag::warn_attribute_wrong_decl_type_str)
          << Attr << Attr.isRegularKeywordAttribute()
          << (OnFunctions ? "functions" : "variables");
    return Ok;
  }

  AttrHandling handleDeclAttribute(Sema &S, Decl *D, const ParsedAttr &Attr) const override {
    std::string Mark = std::string("autockpt.") + Name;
    D->addAttr(AnnotateAttr::Create(S.Context, Mark, nullptr, 0, Attr.getRange()));
    return AttributeApplied;
  }
};

ParsedAttrInfoRegistry::Add<MarkAttr<true>> NoPoll("autockpt_nopoll", "[[autockpt::nopoll]]");
ParsedAttrInfoRegistry::Add<MarkAttr<false>> NoSave("autockpt_nosave", "[[autockpt::nosave]]");

}  // namespace

}  // namespace autockpt
