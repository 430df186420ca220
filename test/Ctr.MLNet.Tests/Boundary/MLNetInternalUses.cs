using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Ctr.MLNet.Tests.Boundary;

/// <summary>One place in our code that reaches an ML.NET member or type that ML.NET does not make accessible to us.</summary>
/// <param name="File">Source file, relative to the repository root, with forward slashes.</param>
/// <param name="Type">Our type (the outermost one a compiler-generated closure or state machine belongs to).</param>
/// <param name="Site">Our method, or what the use is part of (base type, field, attribute).</param>
/// <param name="Member">The ML.NET member or type, with its assembly.</param>
public sealed record InternalUse(string File, string Type, string Site, string Member)
{
    public override string ToString() => $"{File}: {Type}.{Site} uses {Member}";
}

/// <summary>
/// Finds every use of non-accessible ML.NET members in a compiled assembly of ours, from metadata alone.
/// Each type, method, field and attribute reference the assembly makes into a Microsoft.ML* assembly is resolved
/// against the real (not publicized) ML.NET assembly; it counts when the target is private, internal or private
/// protected there (protected is fine: a derived class may use it). The places looked at are every IL token of every
/// method body, local variable types, signatures, base types, interfaces, generic constraints, custom attributes
/// (assembly-level ones are charged to the type their first <c>typeof</c> argument names), and overrides of ML.NET's
/// virtual methods (an override emits no token). The portable PDB beside the assembly maps each method to its source
/// file by its sequence points, and each type to the files of its methods.
/// </summary>
public sealed class MLNetInternalUses
{
    private readonly PEReader _pe;
    private readonly MetadataReader _md;
    private readonly MetadataReader _pdb;
    private readonly string _repositoryRoot;
    private readonly string _referenceDirectory;
    private readonly Dictionary<string, MLNetAssembly?> _targets = [];
    private readonly Dictionary<TypeDefinitionHandle, string[]> _typeFiles = [];
    private readonly HashSet<InternalUse> _uses = [];

    private MLNetInternalUses(PEReader pe, MetadataReader pdb, string repositoryRoot, string referenceDirectory)
    {
        _pe = pe;
        _md = pe.GetMetadataReader();
        _pdb = pdb;
        _repositoryRoot = repositoryRoot;
        _referenceDirectory = referenceDirectory;
    }

    /// <summary>
    /// The internal uses of <paramref name="assemblyPath"/> (its .pdb must lie beside it), resolved against the ML.NET
    /// assemblies in <paramref name="referenceDirectory"/> (the real ones an app runs with).
    /// </summary>
    public static IReadOnlyList<InternalUse> Find(string assemblyPath, string referenceDirectory, string repositoryRoot)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(Path.ChangeExtension(assemblyPath, ".pdb")));
        var sut = new MLNetInternalUses(pe, pdbProvider.GetMetadataReader(), repositoryRoot, referenceDirectory);
        try
        {
            sut.Scan();
        }
        finally
        {
            foreach (MLNetAssembly? target in sut._targets.Values)
                target?.Dispose();
        }
        return [.. sut._uses.OrderBy(u => u.File, StringComparer.Ordinal).ThenBy(u => u.Type, StringComparer.Ordinal)
            .ThenBy(u => u.Site, StringComparer.Ordinal).ThenBy(u => u.Member, StringComparer.Ordinal)];
    }

    private void Scan()
    {
        foreach (TypeDefinitionHandle handle in _md.TypeDefinitions)
        {
            TypeDefinition type = _md.GetTypeDefinition(handle);
            string[] typeFiles = FilesOf(handle);
            void TypeLevel(string site, EntityHandle reference) => CheckReference(reference, typeFiles, handle, site);

            if (!type.BaseType.IsNil)
                TypeLevel("(base type)", type.BaseType);
            foreach (InterfaceImplementationHandle i in type.GetInterfaceImplementations())
                TypeLevel("(interface)", _md.GetInterfaceImplementation(i).Interface);
            CheckGenericParameters(type.GetGenericParameters(), r => TypeLevel("(generic constraint)", r));
            CheckAttributes(type.GetCustomAttributes(), r => TypeLevel("(attribute)", r));
            foreach (FieldDefinitionHandle f in type.GetFields())
            {
                FieldDefinition field = _md.GetFieldDefinition(f);
                string site = _md.GetString(field.Name);
                foreach (EntityHandle r in TypesInSignature(field.Signature))
                    TypeLevel(site, r);
                CheckAttributes(field.GetCustomAttributes(), r => TypeLevel(site, r));
            }
            foreach (PropertyDefinitionHandle p in type.GetProperties())
            {
                PropertyDefinition property = _md.GetPropertyDefinition(p);
                CheckAttributes(property.GetCustomAttributes(), r => TypeLevel(_md.GetString(property.Name), r));
            }
            foreach (MethodDefinitionHandle m in type.GetMethods())
                ScanMethod(handle, m, typeFiles);
            foreach (MethodImplementationHandle i in type.GetMethodImplementations())
                TypeLevel("(explicit implementation)", _md.GetMethodImplementation(i).MethodDeclaration);
        }
        foreach (CustomAttributeHandle a in _md.GetAssemblyDefinition().GetCustomAttributes())
            ScanAssemblyAttribute(a);
    }

    private void ScanMethod(TypeDefinitionHandle owner, MethodDefinitionHandle handle, string[] typeFiles)
    {
        MethodDefinition method = _md.GetMethodDefinition(handle);
        string site = _md.GetString(method.Name);
        string[] files = FilesOfMethod(handle) is { Length: > 0 } own ? own : typeFiles;
        void Use(EntityHandle r) => CheckReference(r, files, owner, site);

        foreach (EntityHandle r in TypesInSignature(method.Signature))
            Use(r);
        CheckGenericParameters(method.GetGenericParameters(), Use);
        CheckAttributes(method.GetCustomAttributes(), Use);
        foreach (ParameterHandle p in method.GetParameters())
            CheckAttributes(_md.GetParameter(p).GetCustomAttributes(), Use);
        if ((method.Attributes & MethodAttributes.Virtual) != 0 && (method.Attributes & MethodAttributes.NewSlot) == 0)
        {
            string? overridden = InaccessibleOverriddenMethod(owner, method);
            if (overridden is not null)
                Record(files, owner, site, overridden);
        }
        if (method.RelativeVirtualAddress == 0)
            return;

        MethodBodyBlock body = _pe.GetMethodBody(method.RelativeVirtualAddress);
        if (!body.LocalSignature.IsNil)
        {
            foreach (EntityHandle r in TypesInSignature(_md.GetStandaloneSignature(body.LocalSignature).Signature))
                Use(r);
        }
        foreach (ExceptionRegion region in body.ExceptionRegions)
        {
            if (!region.CatchType.IsNil)
                Use(region.CatchType);
        }
        BlobReader il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            int code = il.ReadByte();
            if (code == 0xFE)
                code = 0xFE00 | il.ReadByte();
            switch (OperandTypes[code])
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineSwitch:
                    int targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    Use(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSig:
                    foreach (EntityHandle r in TypesInSignature(_md.GetStandaloneSignature((StandaloneSignatureHandle)MetadataTokens.EntityHandle(il.ReadInt32())).Signature))
                        Use(r);
                    break;
                default:
                    il.Offset += 4;
                    break;
            }
        }
    }

    private void ScanAssemblyAttribute(CustomAttributeHandle handle)
    {
        CustomAttribute attribute = _md.GetCustomAttribute(handle);
        // Charged to the first of our types the attribute names with typeof (LoadableClass names the transformer).
        var value = attribute.DecodeValue(new AttributeTypeNames());
        TypeDefinitionHandle owner = default;
        var serializedTypes = value.FixedArguments.Where(a => a.Type == AttributeTypeNames.SystemType && a.Value is string).Select(a => (string)a.Value!).ToList();
        foreach (string name in serializedTypes)
        {
            if (owner.IsNil && FindOwnType(name) is { IsNil: false } own)
                owner = own;
        }
        string[] files = owner.IsNil ? ["(assembly attribute)"] : FilesOf(owner);
        CheckReference(attribute.Constructor, files, owner, "(assembly attribute)");
        foreach (string name in serializedTypes)
        {
            string? inaccessible = InaccessibleSerializedType(name);
            if (inaccessible is not null)
                Record(files, owner, "(assembly attribute)", inaccessible);
        }
    }

    private void CheckAttributes(CustomAttributeHandleCollection attributes, Action<EntityHandle> use)
    {
        foreach (CustomAttributeHandle a in attributes)
            use(_md.GetCustomAttribute(a).Constructor);
    }

    private void CheckGenericParameters(GenericParameterHandleCollection parameters, Action<EntityHandle> use)
    {
        foreach (GenericParameterHandle p in parameters)
        {
            foreach (GenericParameterConstraintHandle c in _md.GetGenericParameter(p).GetConstraints())
                use(_md.GetGenericParameterConstraint(c).Type);
        }
    }

    private void CheckReference(EntityHandle reference, string[] files, TypeDefinitionHandle owner, string site)
    {
        foreach (string member in InaccessibleTargets(reference))
            Record(files, owner, site, member);
    }

    private void Record(string[] files, TypeDefinitionHandle owner, string site, string member)
    {
        string type = owner.IsNil ? "(assembly)" : OuterTypeName(owner);
        foreach (string file in files)
            _uses.Add(new InternalUse(file, type, site, member));
    }

    /// <summary>Descriptions of the non-accessible ML.NET types and members that one token reaches.</summary>
    private IEnumerable<string> InaccessibleTargets(EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeReference:
                return InaccessibleType((TypeReferenceHandle)handle) is string type ? [type] : [];
            case HandleKind.TypeSpecification:
                return TypesInTypeSpecification((TypeSpecificationHandle)handle).SelectMany(InaccessibleTargets);
            case HandleKind.MethodSpecification:
                MethodSpecification spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                return InaccessibleTargets(spec.Method).Concat(TypesInSignature(spec.Signature).SelectMany(InaccessibleTargets));
            case HandleKind.MemberReference:
                MemberReference member = _md.GetMemberReference((MemberReferenceHandle)handle);
                IEnumerable<string> parts = InaccessibleTargets(member.Parent).Concat(TypesInSignature(member.Signature).SelectMany(InaccessibleTargets));
                return InaccessibleMember(member) is string m ? parts.Append(m) : parts;
            default:
                return [];
        }
    }

    private string? InaccessibleType(TypeReferenceHandle handle)
    {
        if (ResolveType(handle) is not var (target, definition))
            return null;
        return IsAccessible(target.Reader, definition) ? null : $"type {target.TypeName(definition)} ({target.Name})";
    }

    private string? InaccessibleMember(MemberReference member)
    {
        EntityHandle parent = member.Parent;
        if (parent.Kind == HandleKind.TypeSpecification)
            parent = GenericTypeOf(_md.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
        if (parent.Kind != HandleKind.TypeReference || ResolveType((TypeReferenceHandle)parent) is not var (target, definition))
            return null;
        string name = _md.GetString(member.Name);
        if (member.GetKind() == MemberReferenceKind.Field)
        {
            var (owner, field) = target.FindField(definition, name, this)
                ?? throw new InvalidOperationException($"field {target.TypeName(definition)}.{name} not found in {target.Name}");
            FieldDefinition definitionOfField = owner.Reader.GetFieldDefinition(field);
            return IsAccessible(definitionOfField.Attributes & FieldAttributes.FieldAccessMask) && IsAccessible(owner.Reader, definitionOfField.GetDeclaringType())
                ? null : $"field {owner.TypeName(definitionOfField.GetDeclaringType())}.{name} ({owner.Name})";
        }
        string signature = SignatureText(_md, member.Signature);
        var (declaring, method) = target.FindMethod(definition, name, signature, SignatureTypes.ParameterCount(_md, member.Signature), this)
            ?? throw new InvalidOperationException($"method {target.TypeName(definition)}.{name} {signature} not found in {target.Name}");
        MethodDefinition found = declaring.Reader.GetMethodDefinition(method);
        // A public method of an internal type (Contracts.Check) is as closed to us as the type.
        return IsAccessible((FieldAttributes)(found.Attributes & MethodAttributes.MemberAccessMask)) && IsAccessible(declaring.Reader, found.GetDeclaringType())
            ? null : $"method {declaring.TypeName(found.GetDeclaringType())}.{name} ({declaring.Name})";
    }

    /// <summary>The ML.NET method our override replaces, when ML.NET keeps it from us (a private protected hook).</summary>
    private string? InaccessibleOverriddenMethod(TypeDefinitionHandle owner, MethodDefinition method)
    {
        string name = _md.GetString(method.Name);
        string signature = SignatureText(_md, method.Signature);
        for (EntityHandle baseType = _md.GetTypeDefinition(owner).BaseType; !baseType.IsNil;)
        {
            if (baseType.Kind == HandleKind.TypeSpecification)
                baseType = GenericTypeOf(_md.GetTypeSpecification((TypeSpecificationHandle)baseType).Signature);
            if (baseType.Kind == HandleKind.TypeDefinition)
            {
                // One of ours: an override of an ML.NET hook is declared further up.
                baseType = _md.GetTypeDefinition((TypeDefinitionHandle)baseType).BaseType;
                continue;
            }
            if (ResolveType((TypeReferenceHandle)baseType) is not var (target, definition))
                return null;
            if (target.FindMethod(definition, name, signature, SignatureTypes.ParameterCount(_md, method.Signature), this) is not var (declaring, found))
                return null;
            MethodDefinition overridden = declaring.Reader.GetMethodDefinition(found);
            return IsAccessible((FieldAttributes)(overridden.Attributes & MethodAttributes.MemberAccessMask))
                ? null : $"override of {declaring.TypeName(overridden.GetDeclaringType())}.{name} ({declaring.Name})";
        }
        return null;
    }

    private string? InaccessibleSerializedType(string serialized)
    {
        // "Namespace.Outer+Inner, Assembly, Version=..., ..." (assembly absent for our own or core library types).
        string[] parts = serialized.Split(',', 2);
        if (parts.Length < 2)
            return null;
        string assembly = parts[1].Split(',')[0].Trim();
        if (FindAssembly(assembly) is not { } target || target.FindType(parts[0].Trim().Replace('+', '/'), this, out _) is not { } found)
            return null;
        return IsAccessible(found.Target.Reader, found.Definition) ? null : $"type {found.Target.TypeName(found.Definition)} ({found.Target.Name})";
    }

    /// <summary>An ML.NET type definition for one of our type references, or null when the reference leaves ML.NET.</summary>
    private (MLNetAssembly Target, TypeDefinitionHandle Definition)? ResolveType(TypeReferenceHandle handle) => ResolveType(_md, handle);

    internal (MLNetAssembly Target, TypeDefinitionHandle Definition)? ResolveType(MetadataReader md, TypeReferenceHandle handle)
    {
        TypeReference reference = md.GetTypeReference(handle);
        string name = md.GetString(reference.Name);
        if (reference.ResolutionScope.Kind == HandleKind.TypeReference)
        {
            if (ResolveType(md, (TypeReferenceHandle)reference.ResolutionScope) is not var (outerTarget, outer))
                return null;
            return outerTarget.FindNested(outer, name) is { } nested ? nested
                : throw new InvalidOperationException($"nested type {name} of {outerTarget.TypeName(outer)} not found in {outerTarget.Name}");
        }
        if (reference.ResolutionScope.Kind != HandleKind.AssemblyReference)
            return null;
        string assembly = md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope).Name);
        if (FindAssembly(assembly) is not { } target)
            return null;
        string fullName = reference.Namespace.IsNil ? name : md.GetString(reference.Namespace) + "." + name;
        var found = target.FindType(fullName, this, out bool outsideMLNet);
        return found is not null || outsideMLNet ? found : throw new InvalidOperationException($"type {fullName} not found in {assembly}");
    }

    /// <summary>An ML.NET assembly (or null for any other), read from the reference directory once.</summary>
    internal MLNetAssembly? FindAssembly(string assemblyName)
    {
        if (!assemblyName.StartsWith("Microsoft.ML", StringComparison.Ordinal))
            return null;
        if (!_targets.TryGetValue(assemblyName, out MLNetAssembly? target))
        {
            string path = Path.Combine(_referenceDirectory, assemblyName + ".dll");
            target = File.Exists(path) ? new MLNetAssembly(assemblyName, path) : throw new FileNotFoundException($"{assemblyName}.dll is not in {_referenceDirectory}");
            _targets[assemblyName] = target;
        }
        return target;
    }

    private static bool IsAccessible(MetadataReader reader, TypeDefinitionHandle handle)
    {
        for (TypeDefinition type = reader.GetTypeDefinition(handle); ; type = reader.GetTypeDefinition(type.GetDeclaringType()))
        {
            TypeAttributes visibility = type.Attributes & TypeAttributes.VisibilityMask;
            if (visibility is not (TypeAttributes.Public or TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem))
                return false;
            if (type.GetDeclaringType().IsNil)
                return true;
        }
    }

    // Field and method access bits have the same values.
    private static bool IsAccessible(FieldAttributes access) => access is FieldAttributes.Public or FieldAttributes.Family or FieldAttributes.FamORAssem;

    private EntityHandle GenericTypeOf(BlobHandle typeSpecification) => SignatureTypes.TypeSpecification(_md, typeSpecification).Head;

    private IEnumerable<EntityHandle> TypesInSignature(BlobHandle signature) => SignatureTypes.Signature(_md, signature).Handles;

    private IEnumerable<EntityHandle> TypesInTypeSpecification(TypeSpecificationHandle handle) =>
        SignatureTypes.TypeSpecification(_md, _md.GetTypeSpecification(handle).Signature).Handles;

    private static string SignatureText(MetadataReader md, BlobHandle signature) => SignatureTypes.Signature(md, signature).Text;

    private TypeDefinitionHandle FindOwnType(string serialized)
    {
        string name = serialized.Split(',')[0].Trim();
        foreach (TypeDefinitionHandle handle in _md.TypeDefinitions)
        {
            if (OwnTypeName(handle) == name)
                return handle;
        }
        return default;
    }

    private string OwnTypeName(TypeDefinitionHandle handle)
    {
        TypeDefinition type = _md.GetTypeDefinition(handle);
        string name = _md.GetString(type.Name);
        return type.GetDeclaringType().IsNil
            ? (type.Namespace.IsNil ? name : _md.GetString(type.Namespace) + "." + name)
            : OwnTypeName(type.GetDeclaringType()) + "+" + name;
    }

    private string OuterTypeName(TypeDefinitionHandle handle)
    {
        // Closures, iterators and async state machines (names starting with '<') belong to the type around them.
        TypeDefinition type = _md.GetTypeDefinition(handle);
        while (!type.GetDeclaringType().IsNil && _md.GetString(type.Name).StartsWith('<'))
        {
            handle = type.GetDeclaringType();
            type = _md.GetTypeDefinition(handle);
        }
        return OwnTypeName(handle).Replace('+', '.');
    }

    private string[] FilesOf(TypeDefinitionHandle handle)
    {
        if (_typeFiles.TryGetValue(handle, out string[]? files))
            return files;
        TypeDefinition type = _md.GetTypeDefinition(handle);
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (MethodDefinitionHandle m in type.GetMethods())
            set.UnionWith(FilesOfMethod(m));
        // Types without method bodies (interfaces, enums, field-only classes) list their files in the PDB themselves.
        foreach (CustomDebugInformationHandle c in _pdb.GetCustomDebugInformation(handle))
        {
            CustomDebugInformation info = _pdb.GetCustomDebugInformation(c);
            if (_pdb.GetGuid(info.Kind) != TypeDefinitionDocuments)
                continue;
            BlobReader blob = _pdb.GetBlobReader(info.Value);
            while (blob.RemainingBytes > 0)
                set.Add(DocumentPath(MetadataTokens.DocumentHandle(blob.ReadCompressedInteger())));
        }
        if (set.Count == 0 && !type.GetDeclaringType().IsNil)
            set.UnionWith(FilesOf(type.GetDeclaringType()));
        files = set.Count == 0 ? ["(no source)"] : [.. set];
        _typeFiles[handle] = files;
        return files;
    }

    private static readonly Guid TypeDefinitionDocuments = new("932E74BC-DBA9-4478-8D46-0F32A7BAB3D3");

    private string[] FilesOfMethod(MethodDefinitionHandle handle)
    {
        MethodDebugInformation info = _pdb.GetMethodDebugInformation(handle.ToDebugInformationHandle());
        if (info.SequencePointsBlob.IsNil)
            return info.Document.IsNil ? [] : [DocumentPath(info.Document)];
        return [.. info.GetSequencePoints().Select(p => p.Document).Distinct().Select(DocumentPath).Distinct()];
    }

    private string DocumentPath(DocumentHandle handle)
    {
        string path = _pdb.GetString(_pdb.GetDocument(handle).Name).Replace('\\', '/');
        string root = _repositoryRoot.Replace('\\', '/').TrimEnd('/') + "/";
        if (path.StartsWith(root, StringComparison.Ordinal))
            return path[root.Length..];
        // Deterministic CI builds map the source root to "/_/".
        int mapped = path.IndexOf("/_/", StringComparison.Ordinal);
        return mapped >= 0 ? path[(mapped + 3)..] : path;
    }

    private static readonly Dictionary<int, OperandType> OperandTypes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => (int)(ushort)o.Value, o => o.OperandType);

    /// <summary>Attribute argument types by name; <c>typeof</c> arguments decode to their serialized type names.</summary>
    private sealed class AttributeTypeNames : ICustomAttributeTypeProvider<string>
    {
        public const string SystemType = "System.Type";

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSystemType() => SystemType;

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => SignatureTypes.Name(reader, handle);

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => SignatureTypes.Name(reader, handle);

        public string GetTypeFromSerializedName(string name) => name;

        // Enum arguments: every enum our assembly attributes take is int-based.
        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => PrimitiveTypeCode.Int32;

        public bool IsSystemType(string type) => type == SystemType;
    }
}
